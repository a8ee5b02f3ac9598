import { defineConfig } from 'vitest/config';

// `npm run test:soak`: the long load run (60 s of 50 clients), alone on the machine.
export default defineConfig({
  test: {
    include: ['test/reliability/load.e2e.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    env: { SEKHA_LOAD_SECONDS: process.env.SEKHA_LOAD_SECONDS ?? '60' },
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
