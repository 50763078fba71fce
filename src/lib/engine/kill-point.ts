/**
 * TEST-ONLY crash hook. `OBSCTL_TEST_KILL_AT=<point>[:<n>]` makes obsctl SIGKILL itself the n-th time
 * (default: the first) the code passes the named point, so the kill tests can crash a run at an exact,
 * repeatable place instead of racing a timer. Unset (always, outside tests) it does nothing.
 *
 * Points: `<phase>:start` (a task is recorded running, before its live check), `<phase>:log` (a task of
 * the phase wrote a log line), `<phase>:after-run` (a task's run()
 * returned, before the journal records it done), `<phase>:recorded` (a task's end is in the journal, the phase's
 * next task not started: with SIGINT/SIGTERM the run has handled the signal before it goes on); in the render path: `render:pending-manifest`,
 * `render:write` (one rendered file written), `render:remove`, `render:manifest`, `render:staged`,
 * `render:committed`, `render:pushed`; in `backup create`: `backup-etcd:snapshot-taken` (the snapshot taken and checked in
 * its folder on the node, not yet copied here; with SIGINT/SIGTERM the run has handled the signal); in `backup restore`: `restore-etcd:data-dir-aside` (the control plane
 * stopped, etcd's data dir moved aside, nothing restored yet), `restore-etcd:restored` (`etcdutl snapshot restore`
 * done, the pods still stopped); in any SFTP upload (SshConnection.upload): `ssh-upload:written` (the bytes in the
 * upload's temporary file beside its target, not yet renamed into place); in `secrets rotate`: `rotate:pending-written` (the new value recorded as pending,
 * the consumer not yet changed), `rotate:consumer-changed` (the consumer changed to the new value: Grafana's or
 * OpenSearch's user, Argo CD's hash, a cluster's S3 Secrets); taking over a stale lock: `lock:takeover` (the run lock,
 * ./lock.ts) and `file-lock:takeover` (../file-lock.ts), the takeover file made, the stale lock not yet removed. `cluster remove` and `node remove` use the engine's
 * points (e.g. `remove-kubeconfig:after-run`, `node-reset:after-run`). Examples: `render:write:3`, `nodes:after-run:2`.
 * `OBSCTL_TEST_KILL_SIGNAL=SIGTERM` (or `SIGINT`) sends that signal instead of SIGKILL, so a test places a
 * Ctrl-C or a `kill` at the same exact point and sees how the run handles it.
 */
let spec: {point: string; n: number} | null | undefined
const seen = new Map<string, number>()

function parse(): {point: string; n: number} | null {
  const raw = process.env.OBSCTL_TEST_KILL_AT
  if (!raw) return null
  const parts = raw.split(':')
  const last = parts.at(-1)!
  if (parts.length > 1 && /^\d+$/.test(last)) return {point: parts.slice(0, -1).join(':'), n: Number(last)}
  return {point: raw, n: 1}
}

/** Is this passing of `point` the one OBSCTL_TEST_KILL_AT names (counting each passing)? */
function due(point: string): boolean {
  if (spec === undefined) spec = parse()
  if (spec === null || spec.point !== point) return false
  const n = (seen.get(point) ?? 0) + 1
  seen.set(point, n)
  return n === spec.n
}

export function killPoint(point: string): void {
  if (due(point)) process.kill(process.pid, killSignal())
}

/**
 * killPoint for a point between two steps with no turn of the event loop between them (`<phase>:recorded`): with
 * SIGTERM or SIGINT it also waits until the process's own handlers of that signal have run, so the next step sees
 * the signal as one that arrived exactly at the point (a handler runs only when the event loop turns).
 */
export async function killPointHandled(point: string): Promise<void> {
  if (!due(point)) return
  const signal = killSignal()
  const handled = signal !== 'SIGKILL' && process.listenerCount(signal) > 0 ? new Promise<void>((resolve) => process.once(signal, () => resolve())) : undefined
  // Node's signal watcher does not keep the process alive: with nothing else pending (no socket, no timer) it would
  // exit 0 before the handlers ran; a timer holds it until they have
  const alive = handled && setInterval(() => {}, 1000)
  process.kill(process.pid, signal)
  await handled
  if (alive) clearInterval(alive)
}

function killSignal(): NodeJS.Signals {
  const s = process.env.OBSCTL_TEST_KILL_SIGNAL
  return s === 'SIGTERM' || s === 'SIGINT' ? s : 'SIGKILL'
}

/**
 * TEST-ONLY hold hook, beside the kill hook: `OBSCTL_TEST_HOLD_AT=<point>` with `OBSCTL_TEST_HOLD_DIR=<dir>` makes
 * obsctl, the first time it passes the point, create `<dir>/held` (its pid) and wait until `<dir>/go` exists, so a
 * test lines two processes up at an exact place (one holding the inventory lock while the other starts) instead of
 * racing a timer. Points: `inventory-lock:before` (the inventory read, the lock not yet taken), `inventory-lock:held`
 * (the lock taken and the inventory found unchanged). Unset (always, outside tests) it does nothing.
 */
const heldOnce = new Set<string>()

export async function holdPoint(point: string): Promise<void> {
  const at = process.env.OBSCTL_TEST_HOLD_AT
  const dir = process.env.OBSCTL_TEST_HOLD_DIR
  if (!at || !dir || at !== point || heldOnce.has(point)) return
  heldOnce.add(point)
  const {existsSync, writeFileSync} = await import('node:fs')
  const {join} = await import('node:path')
  writeFileSync(join(dir, 'held'), `${process.pid}\n`)
  while (!existsSync(join(dir, 'go'))) await new Promise((resolve) => setTimeout(resolve, 20))
}
