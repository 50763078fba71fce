/**
 * Writing a merged kubeconfig: 0600, atomically, after a 0600 backup (the newest few kept), under kubectl's lock
 * files; the masked dry-run diff.
 */
import {existsSync, readdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {unifiedDiff} from '../../diff.js'
import {lockPathFor, withFileLocks} from '../../file-lock.js'
import {writeFileAtomic} from '../../fs.js'
import {kubeconfigCreateFile} from '../../platform/kube.js'
import {yamlOrUndefined} from '../../yaml-lenient.js'
import {KUBECONFIG_MODE} from './parse.js'
import {conflictError, type MergePlan} from './plan.js'

export interface WriteResult {
  written: boolean
  backup?: string
}

/**
 * Run `fn` (read the files, plan, write) holding kubectl's lock of each file of the chain: `<file>.lock`, created
 * exclusively and removed after the write (client-go tools/clientcmd/loader.go lockFile; kubectl's ModifyConfig
 * locks every file of the chain, in sorted order, and so does this). Two obsctl processes merging into one file
 * (two inventories) then take turns, the second reading what the first wrote; kubectl, finding obsctl's lock, fails
 * at once with "file exists" rather than overwriting, and obsctl waits for kubectl's (../../file-lock.ts). A file
 * whose folder does not exist is skipped unless it is where new entries go: nothing else can be written there.
 */
export function withKubeconfigLocks<T>(files: string[], fn: () => Promise<T>): Promise<T> {
  const create = kubeconfigCreateFile(files)
  const locked = files.filter((f) => f === create || existsSync(path.dirname(f)))
  return withFileLocks(locked.map(lockPathFor), fn)
}

export function backupName(file: string, now = new Date()): string {
  return `${file}.obsctl-backup-${now.toISOString().replace(/[:.]/g, '-')}`
}

/** How many obsctl backups of a kubeconfig are kept (the newest). */
export const KEEP_BACKUPS = 5

/** obsctl's backups of `file`, oldest first (the names sort by time). */
export function listBackups(file: string): string[] {
  const dir = path.dirname(file)
  const prefix = `${path.basename(file)}.obsctl-backup-`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names
    .filter((n) => n.startsWith(prefix))
    .sort()
    .map((n) => path.join(dir, n))
}

/** Delete all but the newest `keep` backups of `file`; returns those deleted. */
export function pruneBackups(file: string, keep = KEEP_BACKUPS): string[] {
  const all = listBackups(file)
  const old = all.slice(0, Math.max(0, all.length - keep))
  for (const b of old) rmSync(b, {force: true})
  return old
}

/**
 * Write the plan's result (0600, atomically), backing up the previous file first (0600) unless
 * `backup: false` (already backed up earlier in the same run). Nothing changes → nothing is written.
 */
export async function writeMerge(plan: MergePlan, opts: {backup?: boolean} = {}): Promise<WriteResult> {
  if (plan.conflicts.length > 0 && plan.after === plan.before) throw conflictError(plan)
  if (!plan.changed) return {written: false}
  let backup: string | undefined
  if (plan.existed && plan.before !== '' && opts.backup !== false) {
    backup = backupName(plan.file)
    await writeFileAtomic(backup, plan.before, {mode: KUBECONFIG_MODE})
  }
  await writeFileAtomic(plan.file, plan.after, {mode: KUBECONFIG_MODE})
  if (backup) pruneBackups(plan.file)
  return {written: true, backup}
}

const CREDENTIAL_KEYS = ['client-key-data', 'client-certificate-data', 'token', 'password', 'client-key', 'id-token', 'refresh-token', 'access-token']
const MASK_BLOCK = new RegExp(`^(\\s*(?:-\\s+)?["']?(?:${CREDENTIAL_KEYS.join('|')})["']?\\s*:\\s*)(?!\\s*$).*$`)
// JSON (a kubeconfig may be one): also an exec plugin's env values ("value")
const MASK_JSON = new RegExp(`("(?:${[...CREDENTIAL_KEYS, 'value'].join('|')})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'g')
/** What a user entry may show: names (its env entries', its auth provider's) and what runs, never a value it passes. */
const USER_PUBLIC = new Set(['name', 'apiVersion', 'command', 'interactiveMode', 'provideClusterInfo'])
const KEY_LINE = /^(\s*(?:-\s+)?)(["']?)([\w.-]+)\2(\s*:\s*)(.*)$/
const MASK = 'REDACTED'

/** An inline value masked, its JSON quotes and trailing comma kept: `"x",` → `"REDACTED",`. */
const maskedValue = (rest: string) => (/^"(?:[^"\\]|\\.)*"\s*,?\s*$/.test(rest) ? `"${MASK}"${rest.trimEnd().endsWith(',') ? ',' : ''}` : MASK)

/**
 * A kubeconfig's text with its credentials replaced by REDACTED, line for line (the same number of lines): every
 * value inside a `user:` entry except names and what it runs (a token, a client key, an exec plugin's args and env
 * values such as VAULT_TOKEN, an auth provider's config), and the lines of a value that goes on below its key (a
 * block `|`/folded `>-` scalar, a plain scalar over several lines). Elsewhere, credential-named keys as a fallback
 * (an unusual layout, one-line JSON).
 */
export function maskKubeconfig(text: string): string {
  const lines = text.split('\n')
  let userCol = -1
  let valueCol = -1
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const trimmed = line.trim()
    const indent = line.length - line.trimStart().length
    // the lines of a masked value that goes on below its key
    if (valueCol >= 0) {
      if (trimmed === '') continue
      if (indent > valueCol) {
        lines[i] = `${line.slice(0, indent)}${MASK}`
        continue
      }
      valueCol = -1
    }
    const m = KEY_LINE.exec(line)
    if (userCol >= 0 && (trimmed === '' || indent > userCol)) {
      if (trimmed === '' || trimmed.startsWith('#') || /^[[\]{}],?$/.test(trimmed)) continue
      if (m) {
        const [prefix, q, key, sep, rest] = [m[1]!, m[2]!, m[3]!, m[4]!, m[5]!.trim()]
        // a nested mapping or list follows (exec:, env:, args:, auth-provider:, config:; JSON's { and [)
        if (rest === '' || rest === '{' || rest === '[') continue
        if (USER_PUBLIC.has(key) && !/^[|>]/.test(rest)) continue
        lines[i] = `${prefix}${q}${key}${q}${sep}${maskedValue(rest)}`
        valueCol = prefix.length
        continue
      }
      // a list item's scalar (an exec plugin's args), or anything else
      const item = /^(\s*-\s+)/.exec(line)
      lines[i] = `${item ? item[1] : line.slice(0, indent)}${MASK}`
      valueCol = indent
      continue
    }
    userCol = -1
    if (m && m[3] === 'user') {
      const [prefix, q, sep, rest] = [m[1]!, m[2]!, m[4]!, m[5]!.trim()]
      // a users[] entry's user mapping (a context's `user: NAME` is a reference, kept)
      if (rest === '' || rest === '{') userCol = prefix.length
      else if (rest.startsWith('{') && !/^\{\s*\}/.test(rest)) lines[i] = `${prefix}${q}user${q}${sep}{${MASK}}`
      continue
    }
    const b = line.match(MASK_BLOCK)
    if (b) {
      lines[i] = `${b[1]}${MASK}`
      valueCol = (m?.[1] ?? '').length
      continue
    }
    lines[i] = line.replace(MASK_JSON, `$1"${MASK}"`)
  }
  // and wherever a user's value stands, whatever the layout (a one-line JSON kubeconfig): the parsed values
  const values = userValues(text).sort((a, b) => b.length - a.length)
  if (values.length === 0) return lines.join('\n')
  return lines.map((l) => values.reduce((acc, v) => acc.split(v).join(MASK), l)).join('\n')
}

/** The string values of every users[].user (not the public ones), as they appear in the text (also JSON-escaped). */
function userValues(text: string): string[] {
  const doc = yamlOrUndefined(text)
  if (doc === undefined) return []
  const out = new Set<string>()
  const walk = (x: unknown, key: string): void => {
    if (typeof x === 'string') {
      if (USER_PUBLIC.has(key)) return
      for (const part of x.split('\n')) {
        const v = part.trim()
        if (v.length < 4) continue
        out.add(v)
        out.add(JSON.stringify(v).slice(1, -1))
      }
    } else if (Array.isArray(x)) x.forEach((y) => walk(y, key))
    else if (x && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, k)
  }
  const users = (doc as {users?: unknown} | null)?.users
  if (Array.isArray(users)) for (const u of users) walk((u as {user?: unknown} | null)?.user, '')
  return [...out]
}

/** A unified diff of the plan (credentials masked), empty when nothing changes. */
export function maskedDiff(plan: Pick<MergePlan, 'file' | 'before' | 'after'>, context = 2): string {
  return unifiedDiff(plan.file, `${plan.file} (merged)`, plan.before, plan.after, {
    context,
    shown: {before: maskKubeconfig(plan.before), after: maskKubeconfig(plan.after)},
  })
}
