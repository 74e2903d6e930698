import { parseDictionary } from 'structured-headers';
import type { BareItem, Dictionary, InnerList, Item } from 'structured-headers';
import { isSupportedComponent, type CoveredComponent } from './signature-base.js';
import { serializeSignatureItem, serializeSignatureParams } from './signature-serialize.js';

/**
 * Parsing `Signature-Input` and `Signature` (RFC 9421 §4) with the `structured-headers` package,
 * plus the checks a parser of RFC 8941 does not make: duplicated labels, duplicated components,
 * parameter types, and a cap on the number of signatures.
 */

/** One signature's covered components and parameters, as read from `Signature-Input`. */
export interface SignatureInput {
  readonly label: string;
  readonly components: readonly CoveredComponent[];
  readonly created?: number;
  readonly expires?: number;
  readonly keyid?: string;
  readonly alg?: string;
  readonly nonce?: string;
  readonly tag?: string;
  /** The `@signature-params` value: the inner list re-serialised (RFC 9421 §2.3). */
  readonly signatureParams: string;
}

/** The longest `keyid`, `nonce` or `tag` accepted; real ones are far shorter. */
export const MAX_PARAMETER_LENGTH = 256;
/** Integers in `created`/`expires` beyond this are not times (year 5138): refused as malformed. */
const MAX_TIMESTAMP = 99_999_999_999;
const STRING_PARAMETERS = new Set(['keyid', 'alg', 'nonce', 'tag']);

/**
 * Parses a dictionary header, refusing one whose label appears twice. RFC 8941 keeps the last of
 * duplicated keys; for signatures that would let two readers of one message disagree about which
 * signature a label means, so a duplicate is malformed here. Returns `undefined` on any error.
 */
export function parseSignatureDictionary(header: string): Dictionary | undefined {
  let dictionary: Dictionary;
  try {
    dictionary = parseDictionary(header);
  } catch {
    return undefined;
  }
  return countTopLevelMembers(header) === dictionary.size ? dictionary : undefined;
}

/**
 * The number of members of a dictionary that already parsed: commas outside strings and inner
 * lists. Within valid structured fields, commas appear nowhere else (tokens, byte sequences,
 * numbers and keys cannot hold them), so this is exact.
 */
function countTopLevelMembers(header: string): number {
  // No comma at all (one signature, the usual case): one member, nothing to scan.
  if (!header.includes(',')) return header.trim() === '' ? 0 : 1;
  let members = header.trim() === '' ? 0 : 1;
  let inString = false;
  let depth = 0;
  for (let index = 0; index < header.length; index += 1) {
    const character = header.charCodeAt(index);
    if (inString) {
      if (character === 0x5c /* \ */) index += 1;
      else if (character === 0x22 /* " */) inString = false;
    } else if (character === 0x22) {
      inString = true;
    } else if (character === 0x28 /* ( */) {
      depth += 1;
    } else if (character === 0x29 /* ) */) {
      depth -= 1;
    } else if (character === 0x2c /* , */ && depth === 0) {
      members += 1;
    }
  }
  return members;
}

/**
 * Reads one `Signature-Input` member: an inner list of unique, supported component identifiers
 * (strings), with parameters of the right types. `undefined` when it is not one.
 */
export function readSignatureInput(label: string, member: Item | InnerList): SignatureInput | undefined {
  const [items, parameters] = member;
  if (!Array.isArray(items)) return undefined;
  const components: CoveredComponent[] = [];
  for (const [name, componentParameters] of items) {
    if (typeof name !== 'string' || !isSupportedComponent(name, componentParameters)) return undefined;
    const identifier = serializeSignatureItem([name, componentParameters]);
    // A handful of components: a linear scan beats allocating a Set per request.
    if (components.some((component) => component.identifier === identifier)) return undefined;
    components.push({ name, parameters: componentParameters, identifier });
  }
  const input: { -readonly [K in keyof SignatureInput]?: SignatureInput[K] } = { label, components };
  for (const [name, value] of parameters) {
    if (name === 'created' || name === 'expires') {
      if (!isTimestamp(value)) return undefined;
      input[name] = value;
    } else if (STRING_PARAMETERS.has(name)) {
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PARAMETER_LENGTH) return undefined;
      input[name as 'keyid' | 'alg' | 'nonce' | 'tag'] = value;
    }
    // Other parameters are extensions (RFC 9421 §2.3): they stay in the signed `@signature-params`.
  }
  try {
    input.signatureParams = serializeSignatureParams(member as InnerList, components.map((component) => component.identifier));
  } catch {
    return undefined;
  }
  return input as SignatureInput;
}

function isTimestamp(value: BareItem): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_TIMESTAMP;
}

/**
 * The `Signature` field as label → signature bytes (`null` for a member that is not a byte
 * sequence). The shape every signer sends — one `label=:<base64>:` member — is matched exactly and
 * decoded directly; anything else goes to the structured-field parser, duplicates refused as above.
 * `undefined` when the field does not parse.
 */
export function parseSignatureValues(header: string): Map<string, Buffer | null> | undefined {
  const single = SINGLE_SIGNATURE.exec(header);
  if (single !== null) return new Map([[single[1] as string, Buffer.from(single[2] as string, 'base64')]]);
  const dictionary = parseSignatureDictionary(header);
  if (dictionary === undefined) return undefined;
  const values = new Map<string, Buffer | null>();
  for (const [label, [value]] of dictionary) values.set(label, value instanceof ArrayBuffer ? Buffer.from(value) : null);
  return values;
}

/** `label=:<base64>:` with canonical base64 (padding included), as RFC 8941 serialises a byte sequence. */
const SINGLE_SIGNATURE = /^([a-z*][a-z0-9_.*-]{0,63})=:((?:[A-Za-z0-9+/]{4}){0,256}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?):$/;
