/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The console is served under /console/ on the same origin as /api/v1 (csms dev locally,
// CloudFront on AWS). `npm run dev` proxies the API to a running `csms dev`
// (CSMS_URL, default http://127.0.0.1:8180).
const target = process.env.CSMS_URL ?? 'http://127.0.0.1:8180';

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', manifest: true, sourcemap: false, chunkSizeWarningLimit: 1200 },
  server: {
    proxy: {
      '/api': target,
      '/console/config.json': target,
      '/console/dev': target,
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    css: false,
    testTimeout: 20000,
    // @rjsf/mantine imports dayjs plugins without an extension: let Vite resolve them.
    server: { deps: { inline: ['@rjsf/mantine'] } },
  },
});
