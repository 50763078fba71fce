import path from 'node:path'
import {defineConfig} from 'vitest/config'
import {BaseSequencer, type TestSpecification} from 'vitest/node'

/**
 * Seconds the slowest files take (two forks, an idle 2-core machine whose `node -e 0` costs 161 ms), for the order below when vitest has no
 * duration of its own for a file yet (a fresh clone: its cache lives in node_modules/.vite).
 */
const SLOW: Record<string, number> = {
  'test/cli/help-examples-1.test.ts': 78,
  'test/cli/help-examples-2.test.ts': 76,
  'test/lifecycle/upgrade.test.ts': 71,
  'test/e2e/kill-chain.test.ts': 70,
  'test/config/bad-inputs.test.ts': 70,
  'test/e2e/bootstrap.test.ts': 56,
  'test/lifecycle/certs.test.ts': 56,
  'test/gitops/kill.test.ts': 46,
  'test/engine/journal.test.ts': 43,
  'test/validate/metrics-logs.test.ts': 43,
  'test/cli/code-cache.test.ts': 37,
  'test/status/status.test.ts': 37,
  'test/validate/kube.test.ts': 25,
  'test/kube/secrets.test.ts': 25,
}

/**
 * Longest files first (vitest's own order, by file size when it has no durations, put an 84 s file last):
 * the two forks take the next file as they finish, so the long ones overlap and the short ones fill in
 * at the end, instead of one fork running a long file alone while the other is idle.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const seconds = (f: TestSpecification): number => {
      const file = path.relative(this.ctx.config.root, f.moduleId).split(path.sep).join('/')
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${file}`)?.duration
      return cached === undefined ? (SLOW[file] ?? 0) : cached / 1000
    }
    return sorted
      .map((f) => ({f, s: seconds(f)}))
      .sort((a, b) => b.s - a.s)
      .map((x) => x.f)
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // two workers on two cores: most test time is waiting on peers (sshd, Prometheus, git), not CPU
    poolOptions: {forks: {maxForks: 2, minForks: 1}},
    sequence: {sequencer: LongestFirst},
    globalSetup: ['test/support/global-setup.ts'],
    // bcrypt at cost 4 in the workers (the built CLI keeps its own costs): see the file
    setupFiles: ['test/support/fast-bcrypt.ts'],
  },
})
