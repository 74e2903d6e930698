import { formatPath, type ConfigProblem } from './problems.js';

/**
 * `${VAR}` interpolation over the parsed file: only string values are touched, so a variable can
 * never inject structure into the YAML. `${VAR:-fallback}` uses the fallback when VAR is unset or
 * empty; `$${` writes a literal `${`. Every missing variable is reported, not only the first.
 */

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const UNTERMINATED = /\$\{(?![A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})/;

export interface InterpolationResult {
  readonly value: unknown;
  readonly problems: readonly ConfigProblem[];
  /** Names of the variables the file references (for `secrets generate` and `check`). */
  readonly variables: ReadonlySet<string>;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export function interpolate(tree: unknown, env: Environment): InterpolationResult {
  const problems: ConfigProblem[] = [];
  const variables = new Set<string>();

  const replaceIn = (text: string, path: readonly PropertyKey[]): string => {
    if (UNTERMINATED.test(text.replaceAll('$${', ''))) {
      problems.push({ path: formatPath(path), message: 'malformed `${…}` reference (expected ${NAME} or ${NAME:-default})' });
      return text;
    }
    return text.replace(REFERENCE, (whole: string, name: string | undefined, fallback: string | undefined) => {
      if (name === undefined) return '${';
      variables.add(name);
      const value = Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined;
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      problems.push({ path: formatPath(path), message: `environment variable ${name} is not set (referenced as ${whole})` });
      return '';
    });
  };

  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') return node.includes('$') ? replaceIn(node, path) : node;
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node)) {
        // defineProperty keeps a hostile `__proto__` key an own property that validation then rejects.
        Object.defineProperty(out, key, { value: walk(value, [...path, key]), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return node;
  };

  return { value: walk(tree, []), problems, variables };
}
