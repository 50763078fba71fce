/** Small promise helpers shared by the domains. */
import {ObsctlError, interruptedError} from './errors.js'

/**
 * Settle with `p`, or reject with a TIMEOUT error after `ms` (naming `what`), or with an interrupted
 * error when `signal` aborts first. `p` itself is not cancelled; callers pass their own signal to it.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new ObsctlError(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}`, {code: 'TIMEOUT'})), ms)
    const onAbort = () => reject(interruptedError())
    signal?.addEventListener('abort', onAbort, {once: true})
    p.then(resolve, reject).finally(() => {
      clearTimeout(t)
      signal?.removeEventListener('abort', onAbort)
    })
  })
}

/**
 * Settle with `p`, or reject with `signal`'s reason as soon as it aborts (at once when it already has): for work whose
 * every result is moot once something they all depend on turned out bad. `p` goes on; what it settles with is dropped.
 */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined)
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, {once: true})
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** Wait `ms`, or less when `signal` aborts (resolves either way: the caller looks at the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
  })
}

/** Wait `ms`; reject with the interrupted error (exit 130) when `signal` aborts first — for poll loops that must stop at Ctrl-C. */
export function sleepOrInterrupt(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(interruptedError())
    const onAbort = () => {
      clearTimeout(t)
      reject(interruptedError())
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/** `fn` over every item as eachLimited runs it (at most `width` at once), its results in the items' order. */
export async function mapLimited<T, R>(items: readonly T[], width: number | undefined, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  await eachLimited(items, width, async (item, i) => {
    out[i] = await fn(item, i)
  })
  return out
}

/**
 * `fn` over every item, at most `width` at once (all at once when `width` is unset or 0), started in the items' order as
 * earlier ones settle. Once one rejects no further item starts; what runs is waited for, then the first rejection is
 * thrown — nothing goes on in the background after this settles.
 */
export async function eachLimited<T>(items: readonly T[], width: number | undefined, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0
  let failure: {error: unknown} | undefined
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++
      try {
        await fn(items[i]!, i)
      } catch (error) {
        failure ??= {error}
      }
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(width || items.length, items.length))}, worker))
  if (failure) throw failure.error
}
