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
  /** store an output for this input (written when the process exits, atomically, 0600) */
  set(name: string, input: string, output: string): void
}

export const DERIVED_CACHE = Symbol.for('obsctl.derived-cache')

export function derivedCache(): DerivedCache | undefined {
  return (globalThis as {[DERIVED_CACHE]?: DerivedCache})[DERIVED_CACHE]
}
