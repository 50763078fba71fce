/** Durations as Prometheus writes them (30s, 6h, 1d12h, 2w, 1y, 0) and Kubernetes quantities. */

/**
 * Prometheus's duration grammar (prometheus/common model.ParseDuration, also what Thanos and the
 * Prometheus Operator's Duration type accept): units y, w, d, h, m, s, ms, each at most once and in
 * that order, e.g. 1d12h or 1h30m; "0" alone is zero. A year is 365 days.
 */
const UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const
const UNIT_SECONDS: Record<string, number> = {ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000}

function parseDuration(v: string): number | undefined {
  if (v === '0') return 0
  if (v === '') return undefined
  let total = 0
  let last = -1
  for (let i = 0; i < v.length;) {
    let j = i
    while (j < v.length && v[j]! >= '0' && v[j]! <= '9') j++
    if (j === i) return undefined
    const n = Number(v.slice(i, j))
    const unit = v.startsWith('ms', j) ? 'ms' : v[j]
    const idx = UNITS.indexOf(unit as (typeof UNITS)[number])
    if (idx < 0 || idx <= last) return undefined // unknown unit, or out of order / repeated
    last = idx
    total += n * UNIT_SECONDS[unit!]!
    i = j + unit!.length
  }
  return total
}

export function isDuration(v: string): boolean {
  return parseDuration(v) !== undefined
}

/** Seconds in a duration such as `6h`, `30d` or `1d12h`; throws on a malformed value. */
export function durationSeconds(v: string): number {
  const s = parseDuration(v)
  if (s === undefined) throw new Error(`not a duration: ${v} (expected e.g. 6h, 30d, 1d12h)`)
  return s
}

/** Whole days in a duration (rounded down), e.g. `180d` → 180, `2w` → 14. */
export function durationDays(v: string): number {
  return Math.floor(durationSeconds(v) / 86_400)
}

/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource, quantity.go):
 *   <signedNumber><suffix>, number = digits | digits.digits | digits. | .digits,
 *   suffix = binary SI (Ki Mi Gi Ti Pi Ei) | decimal SI (n u m "" k M G T P E) | e/E<signed integer>.
 * So `1k` (not `1K`), `1e9`, `500m`, `16Gi`.
 */
const QUANTITY_RE = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/
const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
}

/** The value of a Kubernetes quantity as a number (`16Gi` → 17179869184, `500m` → 0.5); undefined when malformed. */
export function parseQuantity(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  const m = QUANTITY_RE.exec(v.trim())
  if (!m) return undefined
  const suffix = m[2] ?? ''
  const mult = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix]!
  const n = Number(m[1]) * mult
  return Number.isFinite(n) ? n : undefined
}

/** Millicores in a CPU quantity: `4` → 4000, `500m` → 500, `0.5` → 500, `2e3m` → 2000. */
export function cpuMillis(v: string | number): number {
  const n = parseQuantity(v)
  if (n === undefined) throw new Error(`not a CPU quantity: ${v} (expected e.g. 4, 500m)`)
  return Math.round(n * 1000)
}

/** Bytes in a memory quantity: `16Gi`, `512Mi`, `1G`, `1e9`. */
export function memoryBytes(v: string | number): number {
  const n = parseQuantity(v)
  if (n === undefined) throw new Error(`not a memory quantity: ${v} (expected e.g. 16Gi, 512Mi)`)
  return Math.round(n)
}

export function isCpu(v: string | number): boolean {
  const n = parseQuantity(v)
  return n !== undefined && n >= 0.001
}
export function isMemory(v: string | number): boolean {
  const n = parseQuantity(v)
  return n !== undefined && n >= 1
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`
}
export function formatMemory(bytes: number): string {
  const gi = bytes / 1024 ** 3
  if (gi >= 1) return `${Number.isInteger(gi) ? gi : gi.toFixed(1)}Gi`
  return `${Math.round(bytes / 1024 ** 2)}Mi`
}
