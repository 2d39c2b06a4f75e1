import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Native tests share one process-wide thread pool; files run in separate forks.
    pool: 'forks',
  },
});
