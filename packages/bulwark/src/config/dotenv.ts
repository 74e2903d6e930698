/** One `NAME=value` line of a `.env` file, with the comment lines above it. */
export interface DotenvEntry {
  readonly name: string;
  readonly value: string;
  /** Comment text; each line becomes a `# …` line. */
  readonly comment?: string;
}

const BARE = /^[A-Za-z0-9_./:@,+=-]*$/;

function quote(value: string): string {
  if (BARE.test(value)) return value;
  // Double quotes with \n for newlines: the dotenv syntax read by `node --env-file`, util.parseEnv
  // and the dotenv package alike.
  if (value.includes('"')) {
    if (value.includes("'") || value.includes('\n')) throw new TypeError('formatDotenv: a value cannot contain both quote characters and newlines');
    return `'${value}'`;
  }
  return `"${value.replace(/\n/g, '\\n')}"`;
}

/** Greedy word wrap of one paragraph; a word longer than the width stays whole. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((part) => part.length > 0)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length === 0 ? word : `${line} ${word}`;
    }
  }
  return line.length > 0 || lines.length === 0 ? [...lines, line] : lines;
}

export interface FormatDotenvOptions {
  /** Column at which comment lines are wrapped (the `# ` prefix included). @default 100 */
  readonly commentWidth?: number;
}

/**
 * Renders entries as a `.env` file (readable by `node --env-file`, `util.parseEnv` and dotenv).
 * Values that need it are quoted; comments are wrapped.
 *
 * @example
 * formatDotenv([{ name: 'PORT', value: '8080', comment: 'HTTP port.' }]); // '# HTTP port.\nPORT=8080\n'
 */
export function formatDotenv(entries: readonly DotenvEntry[], options: FormatDotenvOptions = {}): string {
  const width = Math.max(20, (options.commentWidth ?? 100) - 2);
  const blocks = entries.map((entry) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(entry.name)) throw new TypeError(`formatDotenv: ${JSON.stringify(entry.name)} is not a variable name`);
    const comments = entry.comment === undefined ? [] : entry.comment.split('\n').flatMap((paragraph) => wrap(paragraph, width).map((line) => `# ${line}`.trimEnd()));
    return [...comments, `${entry.name}=${quote(entry.value)}`].join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}
