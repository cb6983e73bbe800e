import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: { runes: true },
  // build/handler.js exports `handler`, which the Meshplane server mounts beside /graphql.
  kit: { adapter: adapter({ out: 'build' }) },
};
