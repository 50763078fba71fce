/** Writing a merged kubeconfig: 0600, atomically, after a 0600 backup (the newest few kept); the masked dry-run diff. */
import {readdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {unifiedDiff} from '../../diff.js'
import {writeFileAtomic} from '../../fs.js'
import {KUBECONFIG_MODE} from './parse.js'
import {conflictError, type MergePlan} from './plan.js'

export interface WriteResult {
  written: boolean
  backup?: string
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
const MASK_JSON = new RegExp(`("(?:${CREDENTIAL_KEYS.join('|')})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'g')

/** Replace credential values in a line of a kubeconfig with REDACTED. */
export function maskCredentials(line: string): string {
  const m = line.match(MASK_BLOCK)
  if (m) return `${m[1]}REDACTED`
  return line.replace(MASK_JSON, '$1"REDACTED"')
}

/** A unified diff of the plan (credentials masked), empty when nothing changes. */
export function maskedDiff(plan: Pick<MergePlan, 'file' | 'before' | 'after'>, context = 2): string {
  return unifiedDiff(plan.file, `${plan.file} (merged)`, plan.before, plan.after, {context, mapLine: maskCredentials})
}
