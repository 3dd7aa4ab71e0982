import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The API server `vite dev` proxies to: the server's default port, or `TOOLRUN_API_URL`. */
const apiTarget = process.env.TOOLRUN_API_URL ?? 'http://127.0.0.1:3000';

/**
 * Dev: `vite` serves the console and proxies `/trpc` (HTTP, SSE and WebSocket upgrades),
 * `/healthz` and `/metrics` to a server on port 3000. Build: static files in `dist/`,
 * which the server serves at `/`.
 */
export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      // Host is kept (no changeOrigin): the server's Host/Origin guard then sees the page's own
      // origin (127.0.0.1:5173, a loopback name) and takes its requests as same-origin.
      '/trpc': { target: apiTarget, ws: true },
      '/healthz': { target: apiTarget },
      '/metrics': { target: apiTarget },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
