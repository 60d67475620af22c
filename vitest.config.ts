import { defineConfig } from 'vitest/config';

// Temporal's native bridge crashes under worker threads, so every test file runs in its own fork.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['verbose'],
    fileParallelism: false,
  },
});
