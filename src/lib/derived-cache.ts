/**
 * Results derived from an input by this exact build of obsctl, kept between runs (issue 18): the parse of
 * an unchanged inventory is read back instead of being parsed and checked again.
 *
 * The store is the code cache's folder (./code-cache.ts: per user, 0700/0600, one folder per obsctl version,
 * bundle hash and Node version, so a result of another build is never read), which bin/run.js installs
 * before the CLI loads and hands over here through a global: the CLI's bundle has its own copy of every
 * module but this handle. Without it (tests importing dist/lib, OBSCTL_CODE_CACHE=0, an unusable folder)
 * nothing is cached and every caller computes as before.
 *
 * An entry keeps the whole input it was derived from and is used only when the new input is the same,
 * character for character: no hash to collide.
 */
export interface DerivedCache {
  /** the output stored for exactly this input under `name`, else undefined */
  get(name: string, input: string): string | undefined
  /**
   * store an output for this input (written when the process exits, atomically, 0600); a function is asked
   * for the output at exit, and undefined from it writes nothing
   */
  set(name: string, input: string, output: string | (() => string | undefined)): void
}

export const DERIVED_CACHE = Symbol.for('obsctl.derived-cache')

/** The entry name for what is derived from one file of the user's (its inventory, its journal): kind and path. */
export function fileEntryName(kind: string, file: string): string {
  return `${kind}${file.replace(/[^\w.-]/g, '_').slice(-150)}`
}

/**
 * A JSON result derived from exactly this input, read back when the cache holds one, else computed and kept (only
 * when `compute` returns: a result that throws is never kept). Without the cache, computed every time.
 */
export function derivedJson<T>(name: string, input: string, compute: () => T): T {
  const cache = derivedCache()
  const hit = cache?.get(name, input)
  if (hit !== undefined) return JSON.parse(hit) as T
  const value = compute()
  cache?.set(name, input, JSON.stringify(value))
  return value
}

export function derivedCache(): DerivedCache | undefined {
  return (globalThis as {[DERIVED_CACHE]?: DerivedCache})[DERIVED_CACHE]
}

/**
 * Results for keys of one input, kept in the derived-result cache between runs: the entry `name` holds every
 * key computed for exactly this input, read on the first call and rewritten at exit only when a key was added.
 * The caller computes a missing key (`compute`, a closure over whatever the key stands for). Results read back
 * are JSON, shared between calls: callers must not change them. Without the cache (tests importing dist/lib,
 * OBSCTL_CODE_CACHE=0) results are kept for the process only.
 */
export function derivedMemo(name: string, input: () => string): <T>(key: string, compute: () => T) => T {
  return keptMemo(name, input, false)
}

/**
 * The one memo behind derivedMemo and contentMemo: the entry `name` for exactly `input()` is read on the first
 * call; at exit it is rewritten only when a key was computed, with every key (`bounded` false), or with the keys
 * this run used and, up to twice their number (at least 1,024 in all), keys of earlier runs (`bounded` true: an
 * input shared by all inputs, whose keys would otherwise pile up edit after edit).
 */
function keptMemo(name: string, input: () => string, bounded: boolean): <T>(key: string, compute: () => T) => T {
  let known: Map<string, unknown> | undefined
  const used = new Set<string>()
  let computed = false
  return <T>(key: string, compute: () => T): T => {
    if (!known) {
      const map = (known = new Map<string, unknown>())
      const cache = derivedCache()
      if (cache) {
        const text = input()
        const hit = cache.get(name, text)
        if (hit !== undefined) for (const [k, v] of Object.entries(JSON.parse(hit) as Record<string, unknown>)) map.set(k, v)
        cache.set(name, text, () => {
          if (!computed) return undefined
          if (!bounded) return JSON.stringify(Object.fromEntries(map))
          const keep = [...used].map((k) => [k, map.get(k)] as const)
          const room = Math.max(1024, 2 * used.size)
          for (const [k, v] of map) {
            if (keep.length >= room) break
            if (!used.has(k)) keep.push([k, v])
          }
          return JSON.stringify(Object.fromEntries(keep))
        })
      }
    }
    if (bounded) used.add(key)
    if (known.has(key)) return known.get(key) as T
    const value = compute()
    known.set(key, value)
    computed = true
    return value
  }
}

/** the platform as JSON, once per platform object (every platformMemo of a run keys on it) */
const platformJson = new WeakMap<object, string>()

/** the inventory file each parsed platform came from (../config/load.ts) */
const platformFile = new WeakMap<object, string>()

/** Say which inventory file a parsed platform came from: what platformMemo derives from it is kept per file. */
export function notePlatformFile(p: object, file: string): void {
  platformFile.set(p, file)
}

/**
 * derivedMemo over the inventory's parsed platform: what is derived from it alone (a node's install
 * fingerprint, a cluster's Secret shapes, the rendered files), so `plan` and `render` of an unchanged
 * inventory read them back instead of rendering YAML and templates again. `extra` names what else the results
 * depend on that the cache folder's key (obsctl's version, bundle hash, Node) does not cover: the templates read
 * from disk (their digest, ./gitops/templates.ts), the node install script's text.
 *
 * Each inventory file has its own entry (`name` and the file, as the parse's): a team that runs obsctl on a staging
 * and a production inventory in turn finds each one's results where the other's would have replaced them (at 1,000
 * clusters, `plan` 0.4 s instead of 1 s). A platform not parsed from a file has the one entry `name`.
 *
 * A platform must not be edited in place after its first use here (an edited inventory is parsed into a new
 * object).
 */
export function platformMemo(name: string, extra?: () => string): <T>(p: object, key: string, compute: () => T) => T {
  const memos = new WeakMap<object, ReturnType<typeof derivedMemo>>()
  return (p, key, compute) => {
    let memo = memos.get(p)
    if (!memo) {
      const file = platformFile.get(p)
      memo = derivedMemo(file === undefined ? name : fileEntryName(name, file), () => {
        let json = platformJson.get(p)
        if (json === undefined) platformJson.set(p, (json = JSON.stringify(p)))
        return `${extra?.() ?? ''}\0${json}`
      })
      memos.set(p, memo)
    }
    return memo(key, compute)
  }
}

/**
 * Results keyed by their whole input (a YAML text by the JSON of the value it writes), kept between runs:
 * unlike platformMemo's, they survive an edit of the inventory that leaves their own input as it was (a new
 * domain stringifies no cluster's Cilium values again; an edit of one cluster, that cluster's). The build is
 * the cache folder's key, so the computation itself need not be in the key. The entry keeps the keys this run
 * used and, up to twice their number (at least 1,024 in all), keys of earlier runs; it is rewritten at exit
 * only when a key was computed. Without the cache results are kept for the process only.
 */
export function contentMemo(name: string): (key: string, compute: () => string) => string {
  return keptMemo(name, () => '', true)
}
