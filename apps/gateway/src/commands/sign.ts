/**
 * `bulwark sign`: signs one request under Bulwark's RFC 9421 profile and prints the headers as curl
 * arguments, for trying a signed route by hand.
 *
 *     eval "curl -X POST 'https://api.example.com/orders' \
 *       $(bulwark sign --key-id billing --secret-env BILLING_SECRET --method POST \
 *           --url https://api.example.com/orders --data @order.json) \
 *       --data-binary @order.json"
 *
 * The secret is read from an environment variable or a file, never from the command line: argv is
 * visible to every user of the machine (`ps`, `/proc/<pid>/cmdline`) and is kept in shell history.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { signRequest, SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from 'bulwark/auth';

/** Where the command reads and writes (a subset of the CLI's io, so tests pass buffers). */
export interface SignCommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory `--secret-file` and `--data @file` are resolved against. @default process.cwd() */
  readonly cwd?: string;
}

const OPTIONS = {
  'key-id': { type: 'string' },
  'secret-env': { type: 'string' },
  'secret-file': { type: 'string' },
  algorithm: { type: 'string', default: 'hmac-sha256' },
  method: { type: 'string', default: 'GET' },
  url: { type: 'string' },
  data: { type: 'string' },
  header: { type: 'string', multiple: true },
  curl: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

export const SIGN_SYNOPSIS = '--key-id <id> (--secret-env <VAR> | --secret-file <file>) --url <url> [--method POST] [--data @file|<text>] [--header "Name: value"]… [--algorithm hmac-sha256|ed25519] [--curl]';

export const SIGN_HELP = [
  'Options:',
  '  --key-id <id>           the keyid the server knows the key by',
  '  --secret-env <VAR>      read the secret from this environment variable',
  '  --secret-file <file>    read the secret from this file (trailing newline ignored); for ed25519, a PKCS#8 PEM private key',
  '  --algorithm <alg>       hmac-sha256 (default) or ed25519',
  '  --method <method>       request method (default GET)',
  '  --url <url>             the absolute URL of the request',
  '  --data @file|<text>     the body, from a file (bytes as they are) or the text itself',
  '  --header "Name: value"  an extra header to send and cover (repeatable)',
  '  --curl                  print a whole curl command instead of only the -H arguments',
  '',
  'Prints -H arguments for curl: Signature-Input, Signature and, with a body, Content-Digest.',
  'The secret is never accepted on the command line, where `ps` and shell history would keep it.',
  'Send the body with --data-binary (curl -d strips newlines, which breaks the digest).',
].join('\n');

/** Exit codes, as the rest of the CLI: 0 success, 1 failure, 2 usage error. */
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

/**
 * Runs `bulwark sign` with `args` (the words after `sign`).
 *
 * @returns the exit code: 0 headers printed, 1 the secret or body could not be read or used, 2 usage error.
 * @example
 * await runSign(['--key-id', 'k', '--secret-env', 'K_SECRET', '--url', 'https://api.example.com/'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function runSign(args: readonly string[], io: SignCommandIo): Promise<number> {
  const secretInArgs = args.find((arg) => /^--(?:secret|key|password)(?:=|$)/.test(arg));
  if (secretInArgs !== undefined) {
    io.stderr.write('bulwark sign: secrets are never read from the command line (ps and shell history keep them); use --secret-env <VAR> or --secret-file <file>\n');
    return EXIT_USAGE;
  }
  let values: ReturnType<typeof parseSignArgs>;
  try {
    values = parseSignArgs(args);
  } catch (error) {
    io.stderr.write(`bulwark sign: ${error instanceof Error ? error.message : String(error)}\nUsage: bulwark sign ${SIGN_SYNOPSIS}\n`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.stdout.write(`Usage: bulwark sign ${SIGN_SYNOPSIS}\n\n${SIGN_HELP}\n`);
    return EXIT_OK;
  }
  const usageProblem = checkUsage(values);
  if (usageProblem !== undefined) {
    io.stderr.write(`bulwark sign: ${usageProblem}\nUsage: bulwark sign ${SIGN_SYNOPSIS}\n`);
    return EXIT_USAGE;
  }
  const cwd = io.cwd ?? process.cwd();
  const algorithm = values.algorithm as SignatureAlgorithm;
  const url = values.url as string;

  let key: string | Buffer;
  let body: Buffer | undefined;
  try {
    key = await readSecret(values, io, cwd, algorithm);
    body = values.data === undefined ? undefined : values.data.startsWith('@') ? await readFile(resolve(cwd, values.data.slice(1))) : Buffer.from(values.data, 'utf8');
  } catch (error) {
    io.stderr.write(`bulwark sign: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }

  const headers: Record<string, string> = {};
  for (const line of values.header ?? []) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let signed: ReturnType<typeof signRequest>;
  try {
    signed = signRequest({ method: values.method, url, headers, body: body ?? null }, { keyId: values['key-id'] as string, algorithm, key, components: Object.keys(headers) });
  } catch (error) {
    io.stderr.write(`bulwark sign: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }

  const added: [string, string][] = [
    ...(signed['Content-Digest'] === undefined ? [] : [['Content-Digest', signed['Content-Digest']] as [string, string]]),
    ['Signature-Input', signed['Signature-Input']],
    ['Signature', signed.Signature],
  ];
  const headerArgs = [...Object.entries(headers), ...added].map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`);
  if (values.curl) {
    // --data-binary sends the bytes as they are (curl -d would strip newlines and break the digest).
    const dataArg = values.data === undefined ? [] : ['--data-binary', shellQuote(values.data)];
    io.stdout.write(`${['curl', '-X', shellQuote(values.method), shellQuote(url), ...headerArgs, ...dataArg].join(' ')}\n`);
  } else {
    io.stdout.write(`${headerArgs.join(' ')}\n`);
  }
  return EXIT_OK;
}

/**
 * The command for the CLI's table (`COMMANDS` in cli.ts): the dispatcher parses nothing for it and
 * hands over the raw words, which {@link runSign} parses itself.
 */
export function createSignCommand() {
  return {
    name: 'sign',
    summary: 'Print RFC 9421 signature headers for a request, as curl arguments',
    synopsis: SIGN_SYNOPSIS,
    help: SIGN_HELP,
    options: OPTIONS,
    async run(context: { readonly values: Readonly<Record<string, unknown>>; readonly io: SignCommandIo; readonly cwd: string }): Promise<number> {
      return runSign(toArgs(context.values), { ...context.io, cwd: context.cwd });
    },
  };
}

function parseSignArgs(args: readonly string[]) {
  return parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }).values;
}

function checkUsage(values: ReturnType<typeof parseSignArgs>): string | undefined {
  if (values['key-id'] === undefined || values['key-id'] === '') return '--key-id is required';
  if (values.url === undefined) return '--url is required';
  try {
    const parsed = new URL(values.url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return '--url must be an http or https URL';
  } catch {
    return `--url must be an absolute URL, got ${values.url}`;
  }
  if ((values['secret-env'] === undefined) === (values['secret-file'] === undefined)) return 'give exactly one of --secret-env <VAR> or --secret-file <file>';
  if (!(SIGNATURE_ALGORITHMS as readonly string[]).includes(values.algorithm)) return `--algorithm must be one of ${SIGNATURE_ALGORITHMS.join(', ')}`;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(values.method)) return '--method must be an HTTP method token';
  for (const header of values.header ?? []) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(header)) return `--header must look like "Name: value", got ${header}`;
  }
  return undefined;
}

async function readSecret(values: ReturnType<typeof parseSignArgs>, io: SignCommandIo, cwd: string, algorithm: SignatureAlgorithm): Promise<string | Buffer> {
  const variable = values['secret-env'];
  if (variable !== undefined) {
    const secret = io.env[variable];
    if (secret === undefined || secret === '') throw new Error(`the environment variable ${variable} is not set`);
    return secret;
  }
  const path = resolve(cwd, values['secret-file'] as string);
  const contents = await readFile(path);
  // A secret file written by `echo` or an editor ends with a newline that is not part of the secret.
  if (algorithm === 'ed25519') return contents.toString('utf8');
  let end = contents.length;
  while (end > 0 && (contents[end - 1] === 0x0a || contents[end - 1] === 0x0d)) end -= 1;
  return contents.subarray(0, end);
}

/**
 * The words `parseArgs` values stand for, so that a dispatcher that parsed them can hand them back.
 * `--name=value`, never `--name value`: parseArgs refuses a separate value that starts with a dash
 * (a body such as `--boundary…` or `-1`) as ambiguous.
 */
function toArgs(values: Readonly<Record<string, unknown>>): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === false) continue;
    if (value === true) args.push(`--${name}`);
    else if (Array.isArray(value)) for (const item of value) args.push(`--${name}=${String(item)}`);
    else args.push(`--${name}=${String(value)}`);
  }
  return args;
}

/** `value` single-quoted for a POSIX shell. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
