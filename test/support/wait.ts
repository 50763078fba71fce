/**
 * Waiting in tests: poll a condition until it holds, with a deadline generous enough for a loaded
 * 2-core machine. Never a fixed sleep as synchronisation: the deadline only bounds a failure.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 120_000, what = 'condition', intervalMs = 20): Promise<void> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
