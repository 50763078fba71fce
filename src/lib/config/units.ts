/** Durations as Prometheus writes them (30s, 6h, 1d12h, 2w, 1y, 0) and Kubernetes quantities. */

/**
 * Prometheus's duration grammar (prometheus/common model.ParseDuration, also what Thanos and the
 * Prometheus Operator's Duration type accept): units y, w, d, h, m, s, ms, each at most once and in
 * that order, e.g. 1d12h or 1h30m; "0" alone is zero. A year is 365 days.
 */
const UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const
type Unit = (typeof UNITS)[number]
/** Each unit in milliseconds (whole numbers: seconds and the 64-bit nanoseconds of durationRangeError derive from it). */
const UNIT_MS: Record<Unit, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000}

/** A duration's parts (`1d12h` → [['1', 'd'], ['12', 'h']]; `0` → []), or undefined when it is malformed. */
function durationParts(v: string): [digits: string, unit: Unit][] | undefined {
  if (v === '0') return []
  if (v === '') return undefined
  const parts: [string, Unit][] = []
  let last = -1
  for (let i = 0; i < v.length;) {
    let j = i
    while (j < v.length && v[j]! >= '0' && v[j]! <= '9') j++
    if (j === i) return undefined
    const unit = (v.startsWith('ms', j) ? 'ms' : v[j]) as Unit
    const idx = UNITS.indexOf(unit)
    if (idx < 0 || idx <= last) return undefined // unknown unit, or out of order / repeated
    last = idx
    parts.push([v.slice(i, j), unit])
    i = j + unit.length
  }
  return parts
}

function parseDuration(v: string): number | undefined {
  return durationParts(v)?.reduce((total, [n, unit]) => total + Number(n) * (UNIT_MS[unit] / 1000), 0)
}

export function isDuration(v: string): boolean {
  return parseDuration(v) !== undefined
}

/**
 * The longest duration Prometheus, Thanos and Alertmanager take: prometheus/common model.ParseDuration reads it into
 * Go's time.Duration, 64-bit nanoseconds, and refuses a longer one ("duration out of range"): 2^63-1 ns, some 292
 * years. So a Prometheus or Thanos Receive `retention` past it, or a compactor `--retention.resolution-*` flag, stops
 * the component at start.
 */
const MAX_DURATION_NS = 2n ** 63n - 1n
/** The largest whole number of days within MAX_DURATION_NS, as messages say the bound. */
export const MAX_DURATION_DAYS = 106_751

/**
 * Why a well-formed duration is longer than Prometheus takes (undefined when it fits, or is malformed: isDuration
 * says that). Counted exactly, in BigInt nanoseconds: `99999999999d` is 8.6e24 ns.
 */
export function durationRangeError(v: string): string | undefined {
  const parts = durationParts(v)
  if (!parts) return undefined
  const ns = parts.reduce((total, [n, unit]) => total + BigInt(n) * BigInt(UNIT_MS[unit]) * 1_000_000n, 0n)
  if (ns <= MAX_DURATION_NS) return undefined
  return `${v} is longer than Prometheus and Thanos take: at most ${MAX_DURATION_DAYS}d (about 292y; a duration is 64-bit nanoseconds there, and a longer one stops the component at start)`
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
const EXPONENT = /^[eE][+-]?\d/
/** Each suffix as a power: decimal (`k` 10^3, `m` 10^-3) or binary (`Ki` 1024^1), for parseQuantity and quantityAbove. */
const SUFFIX_POWER: Record<string, [base: 10 | 1024, exp: number]> = {
  '': [10, 0],
  n: [10, -9],
  u: [10, -6],
  m: [10, -3],
  k: [10, 3],
  M: [10, 6],
  G: [10, 9],
  T: [10, 12],
  P: [10, 15],
  E: [10, 18],
  Ki: [1024, 1],
  Mi: [1024, 2],
  Gi: [1024, 3],
  Ti: [1024, 4],
  Pi: [1024, 5],
  Ei: [1024, 6],
}
/** A quantity's suffix as a power; `E` alone and `Ei` are exa and exbi, an exponent (`e9`, `E-3`) has digits after it. */
const suffixPower = (suffix: string): [base: 10 | 1024, exp: number] => (EXPONENT.test(suffix) ? [10, Number(suffix.slice(1))] : SUFFIX_POWER[suffix]!)

/** The value of a Kubernetes quantity as a number (`16Gi` → 17179869184, `500m` → 0.5); undefined when malformed. */
export function parseQuantity(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  const m = QUANTITY_RE.exec(v.trim())
  if (!m) return undefined
  const suffix = m[2] ?? ''
  const [base, exp] = suffixPower(suffix)
  const n = Number(m[1]) * base ** exp
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

/**
 * Whether a quantity is larger than `max` (an integer, in the quantity's own unit), exactly: the digits as a BigInt
 * against `max` scaled by the fraction and the suffix. Kubernetes holds a quantity in at most 2^63-1 (apimachinery
 * quantity.go maxAllowed: a larger one is silently cut down to it), and CPU in millicores (MaxMilliValue,
 * (2^63-1)/1000 cores): a value past that is not the value Kubernetes would count.
 */
function quantityAbove(v: string | number, max: bigint): boolean {
  const m = QUANTITY_RE.exec(String(v).trim())
  if (!m) return false
  const [whole = '', frac = ''] = m[1]!.replace(/^[+-]/, '').split('.')
  const digits = BigInt(`${whole}${frac}` || '0')
  if (m[1]!.startsWith('-') || digits === 0n) return false
  const suffix = m[2] ?? ''
  let num = digits
  let den = 10n ** BigInt(frac.length)
  const [base, exp] = suffixPower(suffix)
  // past these (an exponent's) the value is far above or below any bound (and 10^exp is not worth computing)
  if (exp - frac.length > 40) return true
  if (exp + whole.length < -40) return false
  if (exp >= 0) num *= BigInt(base) ** BigInt(exp)
  else den *= BigInt(base) ** BigInt(-exp)
  return num > max * den
}

/** The most CPU Kubernetes counts: its millicores in 64 bits (MaxMilliValue = (2^63-1)/1000 cores). */
const MAX_CPU = 9_223_372_036_854_775n
/** The most memory a Kubernetes quantity holds: 2^63-1 bytes (1 byte under 8Ei). */
const MAX_MEMORY = 2n ** 63n - 1n

const CPU_SHAPE = 'expected a CPU quantity as Kubernetes writes it, e.g. 4, 500m, 0.5'
const MEMORY_SHAPE = 'expected a memory quantity as Kubernetes writes it, e.g. 16Gi, 512Mi, 16G, 1e9 (kilo is a lower-case k)'

/** What is wrong with a CPU quantity (a node's declared CPU): malformed, under 1m, or more than Kubernetes counts. */
export function cpuError(v: string | number): string | undefined {
  if (quantityAbove(v, MAX_CPU))
    return `${v} is more CPU than Kubernetes can count: at most ${MAX_CPU} (it counts CPU in millicores, a 64-bit integer); a node declares its real CPUs, e.g. 4`
  const n = parseQuantity(v)
  return n !== undefined && n >= 0.001 ? undefined : CPU_SHAPE
}

/** What is wrong with a memory quantity (a node's declared memory): malformed, under 1 byte, or more than a quantity holds. */
export function memoryError(v: string | number): string | undefined {
  if (quantityAbove(v, MAX_MEMORY))
    return `${v} is more memory than a Kubernetes quantity holds: at most ${MAX_MEMORY} bytes (2^63-1, just under 8Ei); a node declares its real memory, e.g. 16Gi`
  const n = parseQuantity(v)
  return n !== undefined && n >= 1 ? undefined : MEMORY_SHAPE
}

export function isCpu(v: string | number): boolean {
  return cpuError(v) === undefined
}
export function isMemory(v: string | number): boolean {
  return memoryError(v) === undefined
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`
}
export function formatMemory(bytes: number): string {
  const gi = bytes / 1024 ** 3
  if (gi >= 1) return `${Number.isInteger(gi) ? gi : gi.toFixed(1)}Gi`
  return `${Math.round(bytes / 1024 ** 2)}Mi`
}
