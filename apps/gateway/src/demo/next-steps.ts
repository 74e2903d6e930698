export interface NextStepsInput {
  readonly gatewayUrl: string;
  readonly upstreamUrl: string;
  readonly adminKey: string;
  readonly signingKeyId: string;
  /** The HMAC secret of the signing key, base64url (as the key store returns it, once). */
  readonly signingSecret: string;
}

/**
 * What `npm start` prints once the demo runs: the fresh keys of this run (shown once) and two
 * copy-paste commands — one with the API key, one signed with `bulwark sign`.
 */
export function nextSteps(input: NextStepsInput): string {
  const { gatewayUrl, upstreamUrl, adminKey, signingKeyId, signingSecret } = input;
  return [
    '',
    `  Bulwark demo gateway  ${gatewayUrl}`,
    `  demo upstream         ${upstreamUrl}   (routes: /status public, /api needs an API key, /signed needs a signature)`,
    '',
    '  Keys for this run (shown once; the master key is ephemeral unless BULWARK_MASTER_KEY is set):',
    `    admin API key    ${adminKey}   (scopes: admin, demo)`,
    `    signing key id   ${signingKeyId}`,
    `    signing secret   ${signingSecret}   (HMAC-SHA256; sign with it as shown)`,
    '',
    '  Try it:',
    '',
    '    # 1. an API key',
    `    curl -i -H 'x-api-key: ${adminKey}' ${gatewayUrl}/api/hello`,
    '',
    '    # 2. a request signed with RFC 9421 (bulwark sign prints the signature headers)',
    `    export BULWARK_SIGNING_SECRET='${signingSecret}'`,
    `    eval "$(npx bulwark sign --key-id ${signingKeyId} --secret-env BULWARK_SIGNING_SECRET --url ${gatewayUrl}/signed/hello --curl)"`,
    '',
    `  Admin console: ${gatewayUrl}/console/  (sign in with the admin API key)`,
    '',
    `  Then: ${gatewayUrl}/health, ${gatewayUrl}/metrics (loopback), admin API under ${gatewayUrl}/admin/ with the admin key.`,
    '  Ctrl-C drains in-flight requests and stops.',
    '',
  ].join('\n');
}
