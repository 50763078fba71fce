/**
 * Server processes of the test peers (Prometheus, node-exporter, Alertmanager) on loopback ports.
 *
 * A port is chosen by binding port 0 and releasing it; the peer binds it a moment later. In that moment the
 * kernel may hand the same port to any outgoing connection of the machine as its source port (both come from
 * the ephemeral range), and the peer then exits at once with "bind: address already in use". Waiting for such
 * a peer to become ready only ends at the deadline (a CI run lost 120 s and the test that way). So each
 * peer's exit is watched, its stderr kept, and a start whose port was taken is retried on fresh ports.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {createServer} from 'node:net'

/**
 * n distinct free ports, held open together while they are chosen: ports taken one at a time can repeat (a
 * port just released is free again), and a peer that binds later then finds its port taken by its sibling.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({length: n}, () => createServer())
  try {
    return await Promise.all(
      servers.map(
        (s) =>
          new Promise<number>((resolve, reject) => {
            s.on('error', reject)
            s.listen(0, '127.0.0.1', () => resolve((s.address() as {port: number}).port))
          }),
      ),
    )
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))))
  }
}

/** the last lines of a log, for an error message */
export const lastLines = (log: string, n = 5): string => log.trimEnd().split('\n').slice(-n).join('\n')

export interface Daemon {
  proc: ChildProcess
  /** its stderr (the last 64 KiB) */
  log(): string
  /** settles with an error naming the process, its exit and its last log lines (`log`: all of it) when (if ever) it exits */
  exit: Promise<Error>
  /** SIGTERM and wait for the exit (nothing when it has already exited) */
  stop(): Promise<void>
}

export function spawnDaemon(cmd: string, args: string[]): Daemon {
  const proc = spawn(cmd, args, {stdio: ['ignore', 'ignore', 'pipe']})
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-65536)
  })
  // 'close', not 'exit': the stderr read to its end. The message shows its last lines, `log` keeps it all
  const exit = new Promise<Error>((resolve) =>
    proc.once('close', (code, signal) => resolve(Object.assign(new Error(`${cmd} exited (${signal ?? code}):\n${lastLines(err)}`), {log: err}))),
  )
  return {
    proc,
    log: () => err,
    exit,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      await exit
    },
  }
}

/**
 * What `ready` resolves to, unless one of the daemons exits first: then that one's error (with its stderr).
 * `ready` gets `gone()`, true once a daemon has exited, to end its polling then rather than at its deadline.
 */
export async function readyOrExit<T>(daemons: Daemon[], ready: (gone: () => boolean) => Promise<T>): Promise<T> {
  let first: Error | undefined
  for (const d of daemons) void d.exit.then((e) => (first ??= e))
  const v = await Promise.race([ready(() => first !== undefined), ...daemons.map((d) => d.exit.then((e) => Promise.reject(e)))])
  if (first) throw first
  return v
}

/** a start that failed because a port was taken between choosing and binding it (anywhere in an exited daemon's log) */
export const portTaken = (e: unknown): boolean =>
  /address already in use/.test(e instanceof Error ? `${e.message}\n${(e as {log?: string}).log ?? ''}` : String(e))

/**
 * `start` on n fresh ports; when it fails because a port was taken, again on new ones (at most `attempts`
 * times). `start` stops what it started before it throws.
 */
export async function onFreshPorts<T>(n: number, start: (ports: number[]) => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start(await freePorts(n))
    } catch (e) {
      if (i >= attempts || !portTaken(e)) throw e
    }
  }
}
