import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // two workers on two cores: most test time is waiting on peers (sshd, Prometheus, git), not CPU
    poolOptions: {forks: {maxForks: 2, minForks: 1}},
    globalSetup: ['test/support/global-setup.ts'],
  },
})
