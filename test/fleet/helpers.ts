/** Fleet-test fixtures: the example inventory in a temp dir, its GitOps repo rendered, committed and pushed to a bare remote. */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/write.js'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {gitDir} from '../../src/lib/config/model.js'
import {renderRepo} from '../../src/lib/gitops/index.js'

export interface Workspace {
  dir: string
  remote: string
  file: string
  inv(): LoadedInventory
  gitops: string
  /** git in the bare remote */
  remoteGit(...args: string[]): string
  cleanup(): void
}

export async function workspace(opts: {edit?: (yaml: string) => string; dir?: string} = {}): Promise<Workspace> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'obsctl-fleet-'))
  const remote = path.join(dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote])
  let text = renderInventoryYaml({...EXAMPLE_ANSWERS, gitRemote: remote})
  if (opts.edit) text = opts.edit(text)
  const file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, text)
  const inv = loadInventory(file)
  const gitops = gitDir(inv.platform, inv.dir)
  await renderRepo(inv.platform, {dir: gitops, inventoryDir: inv.dir, commit: true, push: true})
  return {
    dir,
    remote,
    file,
    gitops,
    inv: () => loadInventory(file),
    remoteGit: (...args) => execFileSync('git', ['-C', remote, ...args], {encoding: 'utf8'}),
    cleanup: () => rmSync(dir, {recursive: true, force: true}),
  }
}

/**
 * The environment that holds an obsctl process at POINT (OBSCTL_TEST_HOLD_AT, src/lib/engine/kill-point.ts) until
 * `go` is called; `held` tells that it got there, `pid` which process it is (the one that wrote `held`).
 */
export function holdAt(
  ws: Pick<Workspace, 'dir'>,
  name: string,
  point: string,
): {env: Record<string, string>; held: () => boolean; pid: () => number; go: () => void} {
  const dir = path.join(ws.dir, `hold-${name}`)
  mkdirSync(dir)
  return {
    env: {OBSCTL_TEST_HOLD_AT: point, OBSCTL_TEST_HOLD_DIR: dir},
    held: () => existsSync(path.join(dir, 'held')),
    pid: () => Number(readFileSync(path.join(dir, 'held'), 'utf8').trim()),
    go: () => writeFileSync(path.join(dir, 'go'), ''),
  }
}

/** The structured error a --json run printed. */
export function jsonError(r: {stdout: string; stderr: string}): {code: string; message: string; exitCode: number; hints: string[]} {
  const out = r.stdout.trim() || r.stderr.trim()
  return (JSON.parse(out.slice(out.indexOf('{'))) as {error: {code: string; message: string; exitCode: number; hints: string[]}}).error
}
