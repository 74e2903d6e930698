import { parseDictionary, parseItem, parseList, serializeDictionary, serializeInnerList, serializeItem, serializeList } from 'structured-headers';
import { serializeSignatureItem } from './signature-serialize.js';
import type { BareItem } from 'structured-headers';
import { headerLines, type HeaderBag } from './signature-headers.js';
import type { SignatureTarget } from './signature-target.js';

/**
 * Builds the signature base of RFC 9421 §2.5 — one line per covered component, then the
 * `@signature-params` line — from a request's target and headers.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9421#section-2.5
 */

/** A covered component: its name, its parameters, and its identifier as serialised in the base. */
export interface CoveredComponent {
  readonly name: string;
  readonly parameters: ReadonlyMap<string, BareItem>;
  /** `"@method"`, `"content-type";bs`, … */
  readonly identifier: string;
}

/** Why a base could not be built: a covered header is absent, or a component cannot be processed. */
export type BaseFailure = 'component_missing' | 'malformed';

/** A failure as a value that no component value (a plain string) can be mistaken for. */
export interface BaseFailureResult {
  readonly failure: BaseFailure;
}

const MISSING: BaseFailureResult = Object.freeze({ failure: 'component_missing' });
const MALFORMED: BaseFailureResult = Object.freeze({ failure: 'malformed' });

/** The derived components of a request this profile supports (§2.2; `@status` is for responses). */
export const DERIVED_COMPONENTS: ReadonlySet<string> = new Set(['@method', '@target-uri', '@authority', '@scheme', '@request-target', '@path', '@query']);

/**
 * Header fields known to be structured, and of which type (RFC 8941 §2 requires the application to
 * know the type before `;sf` can re-serialise a field).
 */
const STRUCTURED_FIELD_TYPES: Readonly<Record<string, 'dictionary' | 'list' | 'item'>> = {
  'content-digest': 'dictionary',
  'repr-digest': 'dictionary',
  'want-content-digest': 'dictionary',
  'want-repr-digest': 'dictionary',
  signature: 'dictionary',
  'signature-input': 'dictionary',
  'accept-signature': 'dictionary',
  priority: 'dictionary',
  'cache-status': 'list',
  'proxy-status': 'list',
  'client-cert': 'item',
  'client-cert-chain': 'list',
};

const FIELD_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/** A component value may hold visible ASCII, spaces and tabs only: nothing that could forge a line. */
const SAFE_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * Checks a component identifier parsed from `Signature-Input`: a supported derived component
 * without parameters, or a lower-case field name with at most the `sf`, `key` and `bs` parameters
 * (`req` and `tr` concern responses and trailers, which this request profile does not cover).
 */
export function isSupportedComponent(name: string, parameters: ReadonlyMap<string, BareItem>): boolean {
  if (name.startsWith('@')) return DERIVED_COMPONENTS.has(name) && parameters.size === 0;
  if (!FIELD_NAME.test(name)) return false;
  for (const [parameter, value] of parameters) {
    if (parameter === 'sf' || parameter === 'bs') {
      if (value !== true) return false;
    } else if (parameter === 'key') {
      if (typeof value !== 'string') return false;
    } else {
      return false;
    }
  }
  if (parameters.has('bs') && (parameters.has('sf') || parameters.has('key'))) return false;
  if (parameters.has('sf') && !parameters.has('key') && STRUCTURED_FIELD_TYPES[name] === undefined) return false;
  return true;
}

/** The identifier of a component as it appears in the signature base and in `Signature-Input`. */
export function componentIdentifier(name: string, parameters: ReadonlyMap<string, BareItem> = new Map()): string {
  return serializeSignatureItem([name, new Map(parameters)]);
}

/** The value of one derived component (§2.2). */
function derivedValue(name: string, target: SignatureTarget): string | BaseFailureResult {
  switch (name) {
    case '@method':
      return target.method;
    case '@authority':
      return target.authority ?? MISSING;
    case '@scheme':
      return target.scheme;
    case '@path':
      return target.path;
    case '@query':
      return `?${target.query ?? ''}`;
    case '@request-target':
      return target.query === undefined ? target.path : `${target.path}?${target.query}`;
    case '@target-uri':
      if (target.authority === undefined) return MISSING;
      return `${target.scheme}://${target.authority}${target.path}${target.query === undefined ? '' : `?${target.query}`}`;
    default:
      return MALFORMED;
  }
}

/** The canonical value of a header field component (§2.1): lines trimmed, joined with `, `. */
function fieldValue(name: string, parameters: ReadonlyMap<string, BareItem>, headers: HeaderBag): string | BaseFailureResult {
  const lines = headerLines(headers, name);
  if (lines === undefined) return MISSING;
  // Obsolete line folding becomes a single space (§2.1); Node rejects it on the wire anyway.
  const trimmed = lines.map((line) => (line.includes('\n') ? line.replace(/[ \t]*\r?\n[ \t]*/g, ' ') : line).trim());
  if (parameters.has('bs')) {
    return trimmed.map((line) => `:${Buffer.from(line, 'latin1').toString('base64')}:`).join(', ');
  }
  const combined = trimmed.join(', ');
  const key = parameters.get('key');
  try {
    if (typeof key === 'string') {
      const member = parseDictionary(combined).get(key);
      if (member === undefined) return MISSING;
      return Array.isArray(member[0]) ? serializeInnerList(member as Parameters<typeof serializeInnerList>[0]) : serializeItem(member as Parameters<typeof serializeItem>[0]);
    }
    if (parameters.has('sf')) {
      switch (STRUCTURED_FIELD_TYPES[name]) {
        case 'dictionary':
          return serializeDictionary(parseDictionary(combined));
        case 'list':
          return serializeList(parseList(combined));
        case 'item':
          return serializeItem(parseItem(combined));
        default:
          return MALFORMED;
      }
    }
  } catch {
    return MALFORMED;
  }
  return combined;
}

/**
 * The signature base for `components` and the serialised `@signature-params` value. Returns a
 * failure instead of a base when a covered header is absent or a value holds characters that have
 * no place in a header (CR, LF, NUL, non-ASCII), so that no value can add a line to the base.
 */
export function buildSignatureBase(
  components: readonly CoveredComponent[],
  signatureParams: string,
  target: SignatureTarget,
  headers: HeaderBag,
): string | BaseFailureResult {
  let base = '';
  for (const component of components) {
    const value = component.name.startsWith('@') ? derivedValue(component.name, target) : fieldValue(component.name, component.parameters, headers);
    if (typeof value !== 'string') return value;
    if (!SAFE_VALUE.test(value)) return MALFORMED;
    base += `${component.identifier}: ${value}\n`;
  }
  return `${base}"@signature-params": ${signatureParams}`;
}
