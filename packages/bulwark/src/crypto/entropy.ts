/**
 * Shannon entropy of a sequence of symbols (characters of a string or bytes of a key), in bits per
 * symbol:
 *
 *     H(s) = − Σ_c (n_c / n) · log2(n_c / n)
 *
 * where n is the length of s and n_c the number of occurrences of the distinct symbol c. H is 0 for
 * a repeated symbol and at most log2(min(n, alphabet size)). It measures how evenly the symbols of
 * this one value are spread, not how the value was produced: it cannot tell a random string from a
 * shuffled keyboard walk, so Bulwark uses it only as a floor that rejects visibly structured values
 * (`aaaa…`, `abab…`, `0000…1`), next to a length minimum and a placeholder deny-list.
 *
 * @example
 * shannonEntropy('aaaa');  // 0
 * shannonEntropy('abcd');  // 2
 */
export function shannonEntropy(symbols: string | Uint8Array): number {
  const units: Iterable<string | number> = typeof symbols === 'string' ? Array.from(symbols) : symbols;
  const counts = new Map<string | number, number>();
  let length = 0;
  for (const unit of units) {
    counts.set(unit, (counts.get(unit) ?? 0) + 1);
    length += 1;
  }
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / length;
    bits -= p * Math.log2(p);
  }
  // `-0` for a single repeated symbol reads oddly in messages and tests.
  return bits + 0;
}
