import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// End-to-end tests: the real server (imported from ../server) and Debian's Chromium.
export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (`main`) and ESM (`module`). Vite would pick the ESM file for the server's
    // sources while its dependencies (@graphql-tools, yoga) load the CJS one in Node: two copies,
    // so `instanceof GraphQLError` fails and every coded error is masked. Use Node's copy everywhere.
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
