import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a running native stack: the gateway answers /ws and /api
    proxy: {
      '/ws': { target: 'http://127.0.0.1:9001', ws: true },
      '/api': { target: 'http://127.0.0.1:9001' },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
