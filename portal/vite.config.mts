// Builds the portal into dist/portal, which the API server serves (server/portal.ts).
// `npm run portal:dev` serves it with hot reload and sends /api and /auth to a running `npm start`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.GRANTFLOW_API_URL ?? 'http://localhost:3000';

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/portal', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
  },
  server: { proxy: { '/api': api, '/auth': api, '/slack': api } },
});
