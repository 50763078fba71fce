/** Durations (Prometheus style: 30s, 6h, 10d, 2w, 1y) and Kubernetes quantities. */

const DURATION_RE = /^(\d+)(ms|s|m|h|d|w|y)$/
const UNIT_SECONDS: Record<string, number> = {ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000}

export function isDuration(v: string): boolean {
  return DURATION_RE.test(v)
}

/** Seconds in a duration such as `6h` or `30d`; throws on a malformed value. */
export function durationSeconds(v: string): number {
  const m = DURATION_RE.exec(v)
  if (!m) throw new Error(`not a duration: ${v} (expected e.g. 6h, 30d)`)
  return Number(m[1]) * UNIT_SECONDS[m[2]!]!
}

/** Whole days in a duration (rounded down), e.g. `180d` → 180, `2w` → 14. */
export function durationDays(v: string): number {
  return Math.floor(durationSeconds(v) / 86_400)
}

const CPU_RE = /^(\d+(?:\.\d+)?)(m?)$/
/** Millicores in a CPU quantity: `4` → 4000, `500m` → 500, `0.5` → 500. */
export function cpuMillis(v: string | number): number {
  if (typeof v === 'number') return Math.round(v * 1000)
  const m = CPU_RE.exec(v.trim())
  if (!m) throw new Error(`not a CPU quantity: ${v} (expected e.g. 4, 500m)`)
  return m[2] ? Math.round(Number(m[1])) : Math.round(Number(m[1]) * 1000)
}

const MEM_RE = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/
const MEM_MULT: Record<string, number> = {
  '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
}
/** Bytes in a memory quantity: `16Gi`, `512Mi`, `1G`. */
export function memoryBytes(v: string | number): number {
  if (typeof v === 'number') return v
  const m = MEM_RE.exec(v.trim())
  if (!m) throw new Error(`not a memory quantity: ${v} (expected e.g. 16Gi, 512Mi)`)
  return Math.round(Number(m[1]) * MEM_MULT[m[2] ?? '']!)
}

export function isCpu(v: string | number): boolean {
  return typeof v === 'number' ? v > 0 : CPU_RE.test(v.trim())
}
export function isMemory(v: string | number): boolean {
  return typeof v === 'number' ? v > 0 : MEM_RE.test(v.trim())
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`
}
export function formatMemory(bytes: number): string {
  const gi = bytes / 1024 ** 3
  if (gi >= 1) return `${Number.isInteger(gi) ? gi : gi.toFixed(1)}Gi`
  return `${Math.round(bytes / 1024 ** 2)}Mi`
}
