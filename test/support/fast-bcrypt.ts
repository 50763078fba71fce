/**
 * Setup file (vitest.config.ts `setupFiles`): bcrypt at cost 4 inside the test workers.
 *
 * obsctl hashes the OpenSearch admin and Grafana users and the Argo CD admin password with bcryptjs at cost 12
 * and 10 (src/lib/kube/secrets/security-config.ts, src/lib/kube/rotate.ts, src/lib/argocd/password.ts; each
 * cluster's Fluent Bit user at 4, FLUENTBIT_HASH_COST). In pure
 * JavaScript one cost-12 hash or compare is 0.3–1 s of CPU, and an apply hashes or compares five users:
 * most of the time of the secrets and rotate files went there, on two shared cores. Here the cost a caller
 * asks for is recorded (bcryptRoundsAsked(), so tests still assert obsctl asks for its costs) and capped
 * at 4; the hashes stay real bcrypt hashes (`compare` reads the cost from the hash), so every outcome the
 * tests assert — a hash that matches the password, a kept hash, a refused old password — is unchanged.
 * Only the workers: the built CLI the tests spawn hashes at its real cost.
 */
import {vi} from 'vitest'

const TEST_COST = 4
const state: {asked: number[]; real: number} = ((globalThis as {__obsctlBcrypt?: {asked: number[]; real: number}}).__obsctlBcrypt ??= {asked: [], real: 0})
const asked = state.asked

/** The costs callers asked for, in order, since the worker started (hash and genSalt). */
export function bcryptRoundsAsked(): number[] {
  return asked
}

/** Runs `fn` with bcrypt at the costs callers ask for (a test that reads the cost in the hash itself). */
export async function withRealBcryptCost<T>(fn: () => Promise<T>): Promise<T> {
  state.real++
  try {
    return await fn()
  } finally {
    state.real--
  }
}

vi.mock('bcryptjs', async (importOriginal) => {
  const real = await importOriginal<typeof import('bcryptjs')>()
  const cap = <T>(rounds: T): T => {
    if (typeof rounds !== 'number') return rounds
    asked.push(rounds)
    return (state.real > 0 ? rounds : Math.min(rounds, TEST_COST)) as T
  }
  const fast = {
    ...real.default,
    genSaltSync: (rounds = 10) => real.genSaltSync(cap(rounds)), // 10: bcryptjs's default
    genSalt: ((rounds?: number, ...rest: unknown[]) => (real.genSalt as (...a: unknown[]) => unknown)(cap(rounds), ...rest)) as typeof real.genSalt,
    hashSync: (password: string, salt?: number | string) => real.hashSync(password, cap(salt)),
    hash: ((password: string, salt: number | string, ...rest: unknown[]) =>
      (real.hash as (...a: unknown[]) => unknown)(password, cap(salt), ...rest)) as typeof real.hash,
  }
  return {...real, ...fast, default: fast}
})
