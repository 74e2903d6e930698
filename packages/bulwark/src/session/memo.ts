/**
 * A bounded cache for pure derivations that run on every request with inputs that repeat (user
 * tags, client networks, header sets): the same answer, without the HMAC or hash each time.
 *
 * Inputs can come from clients, so both dimensions are bounded: beyond `maxEntries` the oldest
 * entry is forgotten, and inputs longer than `maxInputLength` are derived without being cached
 * (ten thousand 16 kB User-Agent strings would otherwise be 160 MB).
 */
export function memoize<T>(derive: (input: string) => T, maxEntries = 10_000, maxInputLength = 512): (input: string) => T {
  const cache = new Map<string, T>();
  return (input) => {
    if (input.length > maxInputLength) return derive(input);
    let value = cache.get(input);
    if (value === undefined) {
      value = derive(input);
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(input, value);
    }
    return value;
  };
}
