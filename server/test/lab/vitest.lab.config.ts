// Private config for the network lab only:
//   pnpm exec vitest run test/lab --config test/lab/vitest.lab.config.ts
// Lab files run one at a time (namespaces, tun devices and wireguard-go daemons are machine-wide
// resources and heavy), with generous timeouts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/lab/**/*.test.ts'],
    // The migrated SQLite template that startTestApp copies (lab scenarios driven through GraphQL).
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
