// The embed snippet: one classic script, with no imports, that any site can load with a
// `<script>` tag. Built after the app, into the same `dist/`.
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2019',
    lib: {
      entry: 'src/embed/embed.ts',
      name: 'VitrineEmbed',
      formats: ['iife'],
      fileName: () => 'embed.js',
    },
  },
});
