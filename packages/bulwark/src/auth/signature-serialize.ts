import { serializeInnerList, serializeItem, Token } from 'structured-headers';
import type { BareItem, InnerList, Item, Parameters } from 'structured-headers';

/**
 * Serialising what a signature's `Signature-Input` holds — strings with parameters whose values are
 * integers, strings, tokens, booleans or byte sequences — exactly as RFC 8941 §4.1 prescribes.
 * Hand-written because `structured-headers`' general serializer cost ~6 µs per request, 40% of a
 * whole verification; any other type (decimals, dates, display strings) is handed to that
 * serializer, so the output is always the library's.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8941#section-4.1
 */

/** `value` as an sf-string: quoted, `\` and `"` escaped (the parser admits nothing else to escape). */
function serializeString(value: string): string | undefined {
  // Printable ASCII only (§4.1.6); anything else is the library's to refuse.
  if (!/^[\x20-\x7e]*$/.test(value)) return undefined;
  return `"${value.includes('\\') || value.includes('"') ? value.replace(/[\\"]/g, '\\$&') : value}"`;
}

function serializeBare(value: BareItem): string | undefined {
  if (typeof value === 'string') return serializeString(value);
  if (typeof value === 'number') return Number.isSafeInteger(value) && Math.abs(value) <= 999_999_999_999_999 ? String(value) : undefined;
  if (typeof value === 'boolean') return value ? '?1' : '?0';
  if (value instanceof Token) return value.toString();
  if (value instanceof ArrayBuffer) return `:${Buffer.from(value).toString('base64')}:`;
  return undefined;
}

function serializeParameters(parameters: Parameters): string | undefined {
  let text = '';
  for (const [key, value] of parameters) {
    // A `true` parameter is written as its bare key (§4.1.1.2).
    if (value === true) {
      text += `;${key}`;
      continue;
    }
    const bare = serializeBare(value);
    if (bare === undefined) return undefined;
    text += `;${key}=${bare}`;
  }
  return text;
}

/** An item (a component identifier such as `"content-type";sf`). */
export function serializeSignatureItem(item: Item): string {
  const bare = serializeBare(item[0]);
  const parameters = bare === undefined ? undefined : serializeParameters(item[1]);
  return bare === undefined || parameters === undefined ? serializeItem(item) : `${bare}${parameters}`;
}

/**
 * An inner list with its parameters: the value of `@signature-params`. `serializedItems`, when
 * given, are the items already serialised with {@link serializeSignatureItem} (the verifier has them
 * as component identifiers), so that they are not serialised twice.
 */
export function serializeSignatureParams(list: InnerList, serializedItems: readonly string[] = list[0].map(serializeSignatureItem)): string {
  const listParameters = serializeParameters(list[1]);
  return listParameters === undefined ? serializeInnerList(list) : `(${serializedItems.join(' ')})${listParameters}`;
}
