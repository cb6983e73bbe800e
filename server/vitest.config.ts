import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Every view the overlay cache returns is checked against a whole read of its WAN (services/overlay/overlay-cache.ts).
    env: { MESHPLANE_VERIFY_OVERLAY_CACHE: '1' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Lab tests share network namespaces and the wireguard-go socket folder: one file at a time there.
    fileParallelism: true,
    pool: 'forks',
  },
});
