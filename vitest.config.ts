import { defineConfig } from 'vitest/config';

// TensorFlow.js's CPU backend prints a "install our node backend" notice once per process; test
// files run in separate processes, so it would appear once per file that uses tfjs. Shown once.
let tfjsNoticeShown = false;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Native tests share one process-wide thread pool; files run in separate forks.
    pool: 'forks',
    onConsoleLog(log) {
      if (!log.includes('looks like you are running TensorFlow.js in Node.js')) return undefined;
      if (tfjsNoticeShown) return false;
      tfjsNoticeShown = true;
      return undefined;
    },
  },
});
