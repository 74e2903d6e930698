import { defineConfig } from 'vite';

/**
 * The console is served by the gateway at `<console.path>/` under `script-src 'self'; style-src
 * 'self'` (no 'unsafe-inline'): the built index.html must reference only files, so nothing is
 * inlined — no module-preload polyfill, no small assets turned into data: URLs, one CSS file per
 * entry. Hashed names in dist/assets/ let the gateway cache them for a year.
 *
 * The build uses relative URLs (`base: './'`): the gateway serves the page at `<console.path>/` only
 * (other paths redirect to its hash routes), so `./assets/…` resolves below the console's path
 * whatever it is, and the app finds its APIs from its own address and the session answer — one
 * build for every `console.path` and `admin.prefix`. The dev server keeps `/console/`.
 */
// eslint-disable-next-line no-restricted-syntax -- Vite loads its configuration through a default export.
export default defineConfig(({ command }) => ({
  base: command === 'build' ? './' : '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // `npm run dev -w @bulwark/console`: the API calls go to a gateway on 127.0.0.1:8080 (npm start).
    proxy: { '/console/api': 'http://127.0.0.1:8080', '/admin': 'http://127.0.0.1:8080' },
  },
}));
