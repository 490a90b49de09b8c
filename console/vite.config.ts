import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The console is built into dist/console, which the server serves at `/` (src/console/routes.ts).
export default defineConfig({
  root: here,
  // Relative asset URLs: the console works behind a reverse proxy under any path prefix.
  base: './',
  publicDir: 'public',
  // The console's client is the SDK, from its sources (console/tsconfig.json maps the same name).
  resolve: { alias: { '@tethys/sdk': fileURLToPath(new URL('../sdk/src/index.ts', import.meta.url)) } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    // No inline data: URLs for assets, so the CSP can stay strict.
    assetsInlineLimit: 0,
  },
  server: {
    // `npx vite --config console/vite.config.ts` during development: API calls go to a running server.
    proxy: {
      '^/(users|tokens|password|keys|things|channels|connect|mapping|certs|http|version|health)(/|$)':
        'http://127.0.0.1:9000',
      '/mqtt': { target: 'ws://127.0.0.1:9000', ws: true },
    },
  },
});
