/**
 * `Vary` merging: a response that depends on request headers must say which, or a shared cache may
 * serve one client's answer (a refusal, a token) to another. Names already present are kept, in
 * their order and spelling; `*` absorbs everything.
 */
export function appendVary(current: string | number | readonly string[] | undefined, names: readonly string[]): string {
  const existing = (typeof current === 'string' ? [current] : Array.isArray(current) ? current : [])
    .flatMap((value: string) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
  if (existing.includes('*')) return '*';
  const seen = new Set(existing.map((value) => value.toLowerCase()));
  const merged = [...existing];
  for (const name of names) {
    if (name === '*') return '*';
    if (!seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      merged.push(name);
    }
  }
  return merged.join(', ');
}
