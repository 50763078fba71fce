import {existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import type {RunResult} from '../../src/lib/engine/index.js'
import {sandboxInventory, type Sandbox} from '../support/sshd.js'

export function inventoryFor(sb: Sandbox, layout: number[][], extra: Parameters<typeof sandboxInventory>[2] = {}): LoadedInventory {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-inv-'))
  const file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, sandboxInventory(sb, layout, extra))
  return loadInventory(file)
}

export function tasks(r: RunResult) {
  return r.phases.flatMap((p) => p.tasks)
}

/** Every regular file under a directory (recursively), with its content. */
export function filesUnder(dir: string): {file: string; content: string}[] {
  if (!existsSync(dir)) return []
  const out: {file: string; content: string}[] = []
  for (const e of readdirSync(dir)) {
    const f = path.join(dir, e)
    const s = statSync(f)
    if (s.isDirectory()) out.push(...filesUnder(f))
    else if (s.isFile()) out.push({file: f, content: readFileSync(f, 'latin1')})
  }
  return out
}

/** Commands that change a node (used to prove a rerun changes nothing). */
export const MUTATING = [
  /^apt-get install/,
  /^apt-get update/,
  /^dnf install/,
  /^kubeadm init --config/,
  /^kubeadm join/,
  /^systemctl (enable|restart|start)/,
  /^modprobe/,
  /^sysctl -q -w/,
  /^swapoff/,
  /^cilium install/,
  /^kubectl taint/,
  /^kubectl apply/,
  /^gpg /,
  /^curl /,
]
