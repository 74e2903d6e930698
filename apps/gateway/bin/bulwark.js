#!/usr/bin/env node
// The `bulwark` command. Runs the compiled CLI (../dist/cli.js) when the gateway has been built,
// and otherwise the TypeScript sources through tsx, so `npx bulwark …` works in a fresh checkout
// without a build. Both run in this process: no child process, so signals and exit codes need no
// relaying.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const compiled = new URL('../dist/cli.js', import.meta.url);

async function loadCli() {
  if (existsSync(compiled)) return import(compiled.href);
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write('bulwark: no build found (apps/gateway/dist) and tsx is not installed. Run `npm run build` or `npm install`.\n');
    process.exit(1);
  }
  // Resolve `bulwark/<module>` to the library's TypeScript sources (the `bulwark-source` export
  // condition), as `node --conditions=bulwark-source` would; conditions cannot be set at run time,
  // so a resolve hook adds it.
  const addSourceCondition = `export async function resolve(specifier, context, next) {
    return next(specifier, { ...context, conditions: [...new Set(['bulwark-source', ...context.conditions])] });
  }`;
  register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
  tsx.register();
  return import(new URL('../src/cli.ts', import.meta.url).href);
}

const cli = await loadCli();
await cli.runCli(process.argv.slice(2));
