/** Refuses option objects with unknown keys, so a typo (`onStoreFaliure`) cannot silently mean "default". */
export function rejectUnknownOptions(options: unknown, known: ReadonlySet<string>, what = 'options'): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what} must be an object`);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`unknown option ${JSON.stringify(key)} in ${what}; known: ${[...known].join(', ')}`);
  }
}
