/**
 * A real terminal for tests: a tmux server of its own (-L, a socket per session, so parallel test files
 * never share one), a shell command in a window of a fixed size, keys typed with send-keys, the screen
 * read with capture-pane (-e keeps the colour codes). Waiting is polling the screen with a deadline.
 * The command's exit code is printed on screen by a trailer (`; echo __EXIT=$?`), and the window stays.
 */
import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {waitFor} from './wait.js'

const run = (args: string[]): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile('tmux', args, {encoding: 'utf8'}, (err, stdout, stderr) =>
      err ? reject(new Error(`tmux ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  )

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

export class Terminal {
  private readonly socket = `obsctl-test-${process.pid}-${randomBytes(4).toString('hex')}`
  private readonly name = 't'

  /** Start `command` (run by sh in `cwd` with `env` added) in a terminal of `cols`×`rows`. */
  static async start(command: string, o: {cwd: string; env?: Record<string, string | undefined>; cols?: number; rows?: number}): Promise<Terminal> {
    const t = new Terminal()
    const env = Object.entries(o.env ?? {})
    const unset = env.filter(([, v]) => v === undefined).map(([k]) => `-u ${k}`)
    const sets = env.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${quote(v!)}`)
    // CI unset inside (obsctl would not draw or ask under CI); TERM as a colour terminal has it
    // the shells survive a Ctrl-C meant for the command (a trap, not an ignore: the command gets the
    // default SIGINT back at exec), so the exit code printed is the command's own, as an interactive
    // shell would report it
    const shell = `trap true INT; cd ${quote(o.cwd)} && env -u CI ${unset.join(' ')} TERM=xterm-256color ${sets.join(' ')} sh -c ${quote(`trap true INT; ${command}`)}; echo __EXIT=$?; exec sleep 600`
    await run(['-L', t.socket, '-f', '/dev/null', 'new-session', '-d', '-s', t.name, '-x', String(o.cols ?? 200), '-y', String(o.rows ?? 50), shell])
    return t
  }

  /** The screen as text (with colour codes when `escapes`). */
  screen(escapes = false): Promise<string> {
    return run(['-L', this.socket, 'capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-t', this.name])
  }

  /** Type keys (tmux key names: 'C-c', 'Enter', 'y'…); `literal` text as it is. */
  async keys(...keys: string[]): Promise<void> {
    await run(['-L', this.socket, 'send-keys', '-t', this.name, ...keys])
  }

  async type(text: string): Promise<void> {
    await run(['-L', this.socket, 'send-keys', '-t', this.name, '-l', text])
  }

  /** Poll the screen until it matches; the screen it matched. */
  async waitFor(pattern: RegExp, timeoutMs = 120_000, escapes = false): Promise<string> {
    let last = ''
    try {
      await waitFor(async () => pattern.test((last = await this.screen(escapes))), timeoutMs, `${pattern} on the terminal`, 100)
    } catch (e) {
      throw new Error(`${(e as Error).message}; the screen:\n${last}`, {cause: e})
    }
    return last
  }

  /** Wait for the command to end; its exit code. */
  async exitCode(timeoutMs = 120_000): Promise<number> {
    const s = await this.waitFor(/__EXIT=\d+/, timeoutMs)
    return Number(/__EXIT=(\d+)/.exec(s)![1])
  }

  async close(): Promise<void> {
    await run(['-L', this.socket, 'kill-server']).catch(() => undefined)
  }
}
