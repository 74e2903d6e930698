/**
 * Human units in the config file: body sizes (`50kb`, `10mb`) and windows (`15m`, `1h`). Both are
 * also accepted as plain numbers (bytes, seconds) so that generated configs need no formatting.
 */

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i;

const SIZE_FACTORS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const DURATION_FACTORS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The source of {@link SIZE_PATTERN}, for the JSON Schema. */
export const SIZE_PATTERN_SOURCE = SIZE_PATTERN.source;
/** The source of {@link DURATION_PATTERN}, for the JSON Schema. */
export const DURATION_PATTERN_SOURCE = DURATION_PATTERN.source;

/**
 * Bytes of a size written as `<number><unit>` (`b`, `kb`, `mb`, `gb`; binary multiples) or a plain
 * number of bytes. Returns `undefined` for anything else, including fractions of a byte.
 *
 * @example parseSize('50kb') // 51200
 */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const match = SIZE_PATTERN.exec(value.trim());
  if (match === null) return undefined;
  const factor = SIZE_FACTORS[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Number(match[1]) * factor;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/**
 * Milliseconds of a duration written as `<number><unit>` (`ms`, `s`, `m`, `h`, `d`) or a plain
 * number of seconds.
 *
 * @example parseDurationMs('15m') // 900000
 */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.round(value * 1000) : undefined;
  const match = DURATION_PATTERN.exec(value.trim());
  if (match === null) return undefined;
  const factor = DURATION_FACTORS_MS[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  const ms = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}
