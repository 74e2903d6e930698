/**
 * A bounded cache for pure derivations that run on every request with inputs that repeat (user
 * tags, client networks, header sets): the same answer, without the HMAC or hash each time. Beyond
 * `maxEntries` the oldest entry is forgotten, so memory stays bounded whatever the traffic.
 */
export function memoize<T>(derive: (input: string) => T, maxEntries = 10_000): (input: string) => T {
  const cache = new Map<string, T>();
  return (input) => {
    let value = cache.get(input);
    if (value === undefined) {
      value = derive(input);
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(input, value);
    }
    return value;
  };
}
