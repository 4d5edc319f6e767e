import { defineConfig } from 'vite';
declare const process: { env: Record<string, string | undefined> };

// The gateway serves dist/ at "/" and owns these prefixes; in dev/preview we proxy them to it.
const API = process.env.API_URL ?? 'http://127.0.0.1:8009';
const prefixes = ['/coffee', '/identity', '/partners', '/beat', '/health', '/ready'];
const proxy = Object.fromEntries(prefixes.map((p) => [p, { target: API, changeOrigin: false }]));

export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: { port: 5173, proxy },
  preview: { port: 4173, proxy },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
} as never);
