import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// `pnpm dev` serves the UI on :5173 and forwards /graphql (HTTP and WebSocket) to a running
// Meshplane server, by default the one `pnpm start` runs on :4000.
const api = process.env.MESHPLANE_API_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [sveltekit()],
  // Rolldown's "callbacks took long" report only ever names SvelteKit's own build steps.
  build: { rolldownOptions: { checks: { bundlerTimings: false } } },
  server: { proxy: { '/graphql': { target: api, ws: true, changeOrigin: false } } },
});
