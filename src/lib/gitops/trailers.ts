/**
 * How obsctl's commits in the GitOps repository are recognisable, and how the inventory that went with
 * each one is kept (for `obsctl rollback`).
 *
 * Every commit obsctl makes ends with Git trailers:
 *   Obsctl-Command: config set            (the command that made it)
 *   Obsctl-Inventory: sha256:<hex>        (the inventory text this tree was rendered from)
 *   Obsctl-Inventory-Before: sha256:<hex> (a change's inventory before the edit)
 * The texts themselves are kept beside the inventory in `.obsctl/inventory/<hex>.yaml` (0600: an
 * inventory names env vars, never values, but stays private like the rest of .obsctl/), never in Git.
 */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {obsctlDir} from '../config/model.js'
import {writeFileAtomic} from '../fs.js'
import {sha256} from '../hash.js'

export const TRAILER = {
  command: 'Obsctl-Command',
  inventory: 'Obsctl-Inventory',
  before: 'Obsctl-Inventory-Before',
  reverts: 'Obsctl-Reverts',
} as const

export type Trailers = Record<string, string | string[]>

export function inventoryHash(text: string): string {
  return `sha256:${sha256(text)}`
}

/** Where the inventory text with this hash is kept (.obsctl/inventory/<hash>.yaml). */
export function recordFile(inventoryDir: string, hash: string): string {
  return path.join(obsctlDir(inventoryDir), 'inventory', `${hash.replace(/^sha256:/, '')}.yaml`)
}

/** Keep an inventory text (content-addressed, so writing it twice is harmless); returns its hash. */
export async function recordInventory(inventoryDir: string, text: string): Promise<string> {
  const hash = inventoryHash(text)
  const file = recordFile(inventoryDir, hash)
  if (!existsSync(file)) await writeFileAtomic(file, text)
  return hash
}

/** A kept inventory text, or undefined when this machine does not have it. */
export function recordedInventory(inventoryDir: string, hash: string): string | undefined {
  if (!/^sha256:[0-9a-f]{64}$/.test(hash)) return undefined
  const file = recordFile(inventoryDir, hash)
  if (!existsSync(file)) return undefined
  const text = readFileSync(file, 'utf8')
  // the name is the content's hash: a file that does not match it is not the inventory we kept
  return inventoryHash(text) === hash ? text : undefined
}

/**
 * The trailers of a commit made from `after` (and, for a change, `before`): the texts are recorded
 * first, so a commit never names an inventory that is not kept.
 */
export async function inventoryTrailers(inventoryDir: string, command: string, after: string, before?: string): Promise<Trailers> {
  const t: Trailers = {[TRAILER.command]: command, [TRAILER.inventory]: await recordInventory(inventoryDir, after)}
  if (before !== undefined && before !== after) t[TRAILER.before] = await recordInventory(inventoryDir, before)
  return t
}

/** A commit message with the trailers as its last paragraph (git interpret-trailers reads them back). */
export function withTrailers(message: string, trailers?: Trailers): string {
  const lines = Object.entries(trailers ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x.replaceAll('\n', ' ')}`))
  if (lines.length === 0) return message
  return `${message.trimEnd()}\n\n${lines.join('\n')}\n`
}

/** Parse `git log --format=%(trailers:only,unfold)` output: key → values. */
export function parseTrailers(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line.trim())
    if (m) (out[m[1]!] ??= []).push(m[2]!)
  }
  return out
}
