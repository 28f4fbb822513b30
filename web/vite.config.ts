// The app: one HTML page for the customer call, the widget, the console and the admin,
// served by the `vitrine` binary from `dist/`. `npm run dev` proxies the API to a node
// started with `./scripts/run`.
import { defineConfig } from 'vite';

const node = process.env.VITRINE_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Catalog images and camera streams come at run time; nothing else is fetched.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/v1': { target: node, ws: true },
      '/demo': node,
    },
  },
});
