// Builds the dashboard into dist/web/dashboard, where the hub serves it at /dashboard (npm run build).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/dashboard/',
  publicDir: false,
  // siar/react's hooks use only useState, useEffect, useRef and useCallback: Preact's hooks, as they are.
  // siar/client's EventSource (the hook's fallback where there is no global one) stays out of the bundle.
  resolve: {
    alias: [
      { find: 'react', replacement: 'preact/hooks' },
      {
        find: /^\.\.\/client\/event-source\.js$/,
        replacement: fileURLToPath(new URL('./src/browser-event-source.ts', import.meta.url)),
      },
    ],
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web/dashboard/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  logLevel: 'warn',
});
