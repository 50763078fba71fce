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
import {readFileSync, readdirSync} from 'node:fs'
import {createServer} from 'node:net'
import {waitForValue} from './wait.js'

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
  /**
   * SIGSTOP, then wait until every thread of the process is stopped (threadStates below). kill(2) only queues
   * the signal: the process stops once the one thread the kernel woke for it gets a CPU, and its other threads
   * go on meanwhile. On this 2-core machine under load a real Prometheus stopped up to ~235 ms after kill()
   * returned, and answered 33 of 100 queries sent at once (the metrics-logs test's stopped-replica case).
   */
  pause(): Promise<void>
  /** SIGCONT, then wait until no thread of the process is stopped any more */
  resume(): Promise<void>
}

/**
 * The state letter of each thread of a process (/proc/PID/task/TID/stat, proc(5): R running, S sleeping, T
 * stopped by a signal, …); a thread that exits while they are read is left out.
 */
export function threadStates(pid: number): string[] {
  const states: string[] = []
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    } catch {
      continue
    }
    // "TID (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'
    states.push(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))
  }
  return states
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
    async pause() {
      if (!proc.kill('SIGSTOP')) throw new Error(`${cmd} (pid ${proc.pid}) could not be sent SIGSTOP: it has exited`)
      await waitForValue(
        `${cmd} (pid ${proc.pid}) stopped by SIGSTOP`,
        async () => {
          const states = threadStates(proc.pid!)
          if (!states.every((s) => s === 'T')) throw new Error(`thread states ${states.join('')}`)
          return true
        },
        120_000,
        10,
      )
    },
    async resume() {
      if (!proc.kill('SIGCONT')) throw new Error(`${cmd} (pid ${proc.pid}) could not be sent SIGCONT: it has exited`)
      await waitForValue(`${cmd} (pid ${proc.pid}) running again after SIGCONT`, async () => !threadStates(proc.pid!).includes('T'), 120_000, 10)
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
