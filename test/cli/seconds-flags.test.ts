/**
 * Every flag in seconds obsctl waits with becomes a Node timer, which holds at most 2^31-1 ms (~24.8 days): a longer
 * delay fires after 1 ms (`status --watch --interval 3000000` redrew in a busy loop, polling every cluster). Such a
 * value is bad input: exit 2 naming the flag, before anything runs. The other integer flags (targets at once, lines)
 * have a maximum too: `--concurrency 99999999999999999999` was taken as 1e20, and `diagnose --tail-lines` that large
 * went to Kubernetes as a tailLines it refuses.
 */
import {readdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {ROOT, obsctl, requireBuild, tmpDir} from './helpers.js'

const TIMER_MAX_MS = 2 ** 31 - 1
/** the first number of seconds a timer cannot hold */
const OVERFLOW = Math.floor(TIMER_MAX_MS / 1000) + 1

interface IntFlag {
  summary?: string
  default?: unknown
  max?: number
  parse: (input: string, ctx: unknown, opts: unknown) => Promise<number>
}

type Command = {flags?: Record<string, IntFlag>; baseFlags?: Record<string, IntFlag>}

/** Every flag of every built command, as oclif loads them (CommonJS bundles), named `FILE --flag`. */
function builtFlags(): {id: string; flag: IntFlag}[] {
  const load = createRequire(import.meta.url)
  const dir = path.join(ROOT, 'dist/commands')
  return commandFiles(dir).flatMap((file) => {
    const mod = load(file) as {default?: Command} & Command
    const cmd = mod.default ?? mod
    return Object.entries({...cmd.baseFlags, ...cmd.flags}).map(([name, flag]) => ({id: `${path.relative(dir, file)} --${name}`, flag}))
  })
}

function commandFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? commandFiles(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : [],
  )
}

describe('flags in seconds have a maximum a timer can hold', () => {
  it('status --watch --interval 3000000, config set --timeout …: exit 2 naming the flag, nothing run (no inventory is even read)', async () => {
    requireBuild()
    // a folder without an inventory: a run that got past the flags would fail on that instead
    const cwd = tmpDir('obsctl-seconds-')
    const [status, json, set] = await Promise.all([
      obsctl(['status', '--watch', '--interval', '3000000'], {cwd}),
      obsctl(['status', '--watch', '--interval', '3000000', '--json'], {cwd}),
      obsctl(['config', 'set', 'retention.prometheus', '8h', '--timeout', String(OVERFLOW), '--yes'], {cwd}),
    ])
    expect(status.status, status.stderr).toBe(2)
    expect(status.stderr).toContain('Error: --interval: expected an integer less than or equal to 86400 but received: 3000000')
    expect(status.stdout).toBe('')
    expect(json.status).toBe(2)
    expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 'BAD_FLAGS', exitCode: 2, message: expect.stringMatching(/^--interval: /)}})
    expect(set.status, set.stderr).toBe(2)
    expect(set.stderr).toContain(`Error: --timeout: expected an integer less than or equal to 604800 but received: ${OVERFLOW}`)
  })

  it('a duration where seconds go, a count past its maximum, an empty value: exit 2 naming the flag and saying what to type', async () => {
    requireBuild()
    const cwd = tmpDir('obsctl-integer-flags-')
    const [timeout, concurrency, tailLines, empty] = await Promise.all([
      obsctl(['validate', '--wait', '--timeout', '5m'], {cwd}),
      obsctl(['bootstrap', '--all', '--dry-run', '--concurrency', '99999999999999999999'], {cwd}),
      obsctl(['diagnose', '--tail-lines', '1000000000000'], {cwd}),
      obsctl(['logs', '--tail', ''], {cwd}),
    ])
    expect(timeout.status, timeout.stderr).toBe(2)
    expect(timeout.stderr).toContain('Error: --timeout: expected an integer (seconds: 300 for 5m) but received: 5m')
    expect(concurrency.status, concurrency.stderr).toBe(2)
    expect(concurrency.stderr).toContain('Error: --concurrency: expected an integer less than or equal to 1000 but received: 99999999999999999999')
    expect(tailLines.status, tailLines.stderr).toBe(2)
    expect(tailLines.stderr).toContain('Error: --tail-lines: expected an integer less than or equal to 10000 but received: 1000000000000')
    expect(empty.status, empty.stderr).toBe(2)
    expect(empty.stderr).toContain('Error: --tail: expected an integer but received: ""')
  })

  it("every command's integer flag has a maximum a number holds exactly and refuses 99999999999999999999", async () => {
    requireBuild()
    const checked: string[] = []
    for (const {id, flag} of builtFlags()) {
      if (typeof flag.parse !== 'function') continue
      // an integer flag is one that refuses a word as "not an integer"
      const word = await flag.parse('abc', undefined, flag).then(
        () => '',
        (e: Error) => e.message,
      )
      if (!/integer/i.test(word)) continue
      checked.push(id)
      expect(flag.max, id).toBeDefined()
      expect(flag.max!, id).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER)
      await expect(flag.parse('99999999999999999999', undefined, flag), id).rejects.toThrow(/less than or equal to/)
      await expect(flag.parse(String(flag.max), undefined, flag), id).resolves.toBe(flag.max)
    }
    // the seconds flags, --concurrency, --tail, --context, --tail-lines, --port
    expect(checked.length).toBeGreaterThanOrEqual(30)
    expect(checked).toEqual(
      expect.arrayContaining([
        'bootstrap.js --concurrency',
        'node/install.js --concurrency',
        'logs.js --tail',
        'diff.js --context',
        'diagnose.js --tail-lines',
      ]),
    )
  })

  it("every command's flag in seconds refuses a value past a timer's limit and accepts its default", async () => {
    requireBuild()
    const checked: string[] = []
    for (const {id, flag} of builtFlags()) {
      if (!flag.summary?.startsWith('Seconds')) continue
      checked.push(id)
      expect(flag.max, id).toBeDefined()
      expect(flag.max! * 1000, id).toBeLessThanOrEqual(TIMER_MAX_MS)
      await expect(flag.parse(String(OVERFLOW), undefined, flag), id).rejects.toThrow(/less than or equal to/)
      await expect(flag.parse(String(flag.default), undefined, flag), id).resolves.toBe(flag.default)
    }
    // the timeouts, intervals and request timeouts of 20-odd commands
    expect(checked.length).toBeGreaterThanOrEqual(25)
  })
})
