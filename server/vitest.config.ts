import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Lab tests share network namespaces and the wireguard-go socket folder: one file at a time there.
    fileParallelism: true,
    pool: 'forks',
  },
});
