/**
 * The upstream command-line tools the rendered repository is checked with (promtool, amtool, kubectl), and
 * what the Alertmanager configuration needs before Debian's older amtool can read it.
 */
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

const run = promisify(execFile)

/** Exit code and output of a command (never throws on a non-zero exit). */
export async function tool(cmd: string, args: string[], cwd?: string): Promise<{code: number; out: string}> {
  try {
    const r = await run(cmd, args, {cwd, maxBuffer: 64 << 20})
    return {code: 0, out: r.stdout + r.stderr}
  } catch (error) {
    const e = error as {code?: number | string; stdout?: string; stderr?: string; message: string}
    if (typeof e.code !== 'number') throw error
    return {code: e.code, out: `${e.stdout ?? ''}${e.stderr ?? ''}`}
  }
}

/**
 * Alertmanager fields newer than Debian's amtool (0.25): valid for the Alertmanager the chart deploys
 * (its values pin the image tag), unknown to the older amtool. For the amtool run only, such a field is
 * replaced by its older counterpart with a placeholder (amtool check-config never connects to it);
 * every other field is checked by amtool as rendered. webhook_configs[].url_file: Alertmanager v0.26
 * (prometheus/alertmanager PR #3223); amtool 0.25 answers "field url_file not found" (tried here).
 */
const NEWER_THAN_AMTOOL = [{list: 'webhook_configs', field: 'url_file', since: '0.26.0', older: {url: 'http://amtool-placeholder.invalid/'}}]

const semver = (v: string) => v.replace(/^v/, '').split(/[.+-]/).slice(0, 3).map(Number)
const older = (a: string, b: string) => {
  const [x, y] = [semver(a), semver(b)]
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]!
  return false
}

/**
 * The configuration as amtool `amtoolVersion` can check it: the fields of NEWER_THAN_AMTOOL swapped (and named in
 * `replaced`). Throws when the deployed Alertmanager is older than such a field (the swap would hide a real error).
 */
export function forAmtool(config: Record<string, unknown>, amtoolVersion: string, deployed: string): {config: Record<string, unknown>; replaced: string[]} {
  const replaced: string[] = []
  const receivers = ((config.receivers as Record<string, unknown>[] | undefined) ?? []).map((r) => {
    const out = {...r}
    for (const n of NEWER_THAN_AMTOOL) {
      if (!older(amtoolVersion, n.since) || !Array.isArray(out[n.list])) continue
      if (older(deployed, n.since)) throw new Error(`${n.list}[].${n.field} needs Alertmanager ${n.since}, the chart deploys ${deployed}`)
      out[n.list] = (out[n.list] as Record<string, unknown>[]).map((c) => {
        if (!(n.field in c)) return c
        replaced.push(`${String(r.name)}: ${n.list}[].${n.field}`)
        const {[n.field]: _, ...rest} = c
        return {...rest, ...n.older}
      })
    }
    return out
  })
  return {config: {...config, receivers}, replaced}
}

/** The version amtool on PATH reports (`amtool --version`). */
export async function amtoolVersion(): Promise<string> {
  return /version (\S+)/.exec((await tool('amtool', ['--version'])).out)?.[1] ?? '0.0.0'
}

/** Run jobs two at a time (the machine has two cores). */
export async function limited<T, R>(items: T[], fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all([worker(), worker()])
  return out
}
