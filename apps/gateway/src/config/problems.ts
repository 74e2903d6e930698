/** One thing wrong with the config or the environment, located by its path in the file. */
export interface ConfigProblem {
  /** Where in the file, e.g. `routes[2].auth.secrets[0]`; empty for the whole file or the environment. */
  readonly path: string;
  readonly message: string;
}

/** Formats a path of keys and indexes the way the file reads: `routes[2].auth`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** One line per problem, for `bulwark check` and the start-up error. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((problem) => (problem.path === '' ? `  - ${problem.message}` : `  - ${problem.path}: ${problem.message}`)).join('\n');
}
