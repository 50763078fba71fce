import path from 'node:path'
import {defineConfig} from 'vitest/config'
import {BaseSequencer, type TestSpecification} from 'vitest/node'

/**
 * Seconds the slowest files take in a whole run (three forks on a 2-core machine; measured 5 December 2026 with two
 * other agents' tests beside it, so the order counts more than the figures), for the order below when vitest has no
 * duration of its own for a file yet (a fresh clone, as CI: its cache lives in node_modules/.vite). The files made
 * cheaper on 6 December: that day's whole run (idle machine) scaled by their CPU alone before and after.
 */
const SLOW: Record<string, number> = {
  'test/e2e/kill-chain.test.ts': 51,
  'test/e2e/bootstrap.test.ts': 47,
  'test/lifecycle/upgrade.test.ts': 42,
  'test/cli/help-examples-1.test.ts': 38,
  'test/kube/rotate.test.ts': 38,
  'test/lifecycle/certs.test.ts': 37,
  'test/cli/disk-full.test.ts': 31,
  'test/lifecycle/backup.test.ts': 30,
  'test/validate/metrics-logs.test.ts': 30,
  'test/gitops/kill.test.ts': 29,
  'test/fleet/change.test.ts': 28,
  'test/nodes/install.test.ts': 28,
  'test/cli/json-contract.test.ts': 23,
  'test/gitops/rollback.test.ts': 22,
  'test/fleet/cluster.test.ts': 21,
  'test/validate/kube.test.ts': 20,
  'test/cli/bad-input.test.ts': 17,
  'test/cli/help-examples-2.test.ts': 14,
}

/**
 * Longest files first (vitest's own order, by file size when it has no durations, put an 84 s file last):
 * the forks take the next file as they finish, so the long ones overlap and the short ones fill in
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
    // three workers on two cores: several long files mostly wait (Prometheus scrapes, SSH sessions, --wait
    // deadlines), and with two forks the cores were idle ~20% of the run (177 of 734 core-seconds); a third
    // fills that (73 idle) and the run is CPU-bound: vitest 367 s -> 319 s. Tests wait on conditions with
    // generous deadlines, never on time, so a busier machine only makes them slower (bench/stress-tests.sh)
    // A fork runs file after file with the modules it loaded (test/support/file-isolation.ts: why, and what
    // each file's end undoes). All three forks live to the end: with fewer kept, tinypool ends an idle one
    // while vitest still talks to it ("Terminating worker thread", an unhandled rejection that fails the run)
    isolate: false,
    poolOptions: {forks: {maxForks: 3, minForks: 3}},
    sequence: {sequencer: LongestFirst},
    globalSetup: ['test/support/global-setup.ts'],
    // each file leaves its fork as it found it; bcrypt at cost 4 in the workers (the built CLI keeps its own
    // costs): see the files
    setupFiles: ['test/support/file-isolation.ts', 'test/support/fast-bcrypt.ts'],
  },
})
