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

/**
 * Poll `fn` until it gives a value (false/undefined, or a thrown error, count as not yet; the last error ends the
 * timeout's message), and return it.
 */
export async function waitForValue<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000, intervalMs = 200): Promise<T> {
  const t0 = Date.now()
  let lastErr: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      lastErr = e
    }
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
