import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The server's template database: each test server copies it (server/test/support/app.ts).
    globalSetup: ['../server/test/global-setup.ts'],
    // Each test spawns the bin several times (a Node process with the tsx loader each): seconds apiece on a busy machine.
    testTimeout: 240_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
