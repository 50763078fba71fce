/**
 * Where the known_hosts file is, for every reader: a `--known-hosts` flag from the working directory (what a path
 * typed in a shell means), the inventory's `ssh.knownHosts` from the inventory's folder, else `.obsctl/known_hosts`.
 * The readers are the SSH pool (node preflight|install, kubeconfig merge, certs check|renew, backup create|restore),
 * the flag's up-front check (../../src/lib/cli/file-flags.ts) and `backup create`'s copy of the file (stateFiles).
 * The flag once resolved from the inventory's folder in all but `node preflight|install`.
 */
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {refuseBadFileFlags} from '../../src/lib/cli/file-flags.js'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {stateFiles} from '../../src/lib/lifecycle/backup.js'
import {SshPool} from '../../src/lib/ssh/pool.js'
import {sandboxInventory, type Sandbox} from '../support/sshd.js'

// an inventory only (nothing connects): one node at an address of no sandbox
const sb = {clientKey: '/nonexistent/key', nodes: [{ip: '127.0.1.250', port: 2222, hostname: 'n', apiServerPort: 6443}]} as unknown as Sandbox

describe('--known-hosts resolves from the working directory, ssh.knownHosts from the inventory', () => {
  let cwd: string
  let work: string
  let invDir: string
  const inventory = (knownHosts?: string): LoadedInventory => {
    const file = path.join(invDir, knownHosts ? 'with-field.yaml' : 'obsctl.yaml')
    writeFileSync(file, sandboxInventory(sb, [[0]], knownHosts ? {knownHosts} : {}))
    return loadInventory(file)
  }
  beforeAll(() => {
    cwd = process.cwd()
    const root = mkdtempSync(path.join(os.tmpdir(), 'obsctl-kh-path-'))
    work = path.join(root, 'work')
    invDir = path.join(root, 'site')
    mkdirSync(path.join(work, 'keys'), {recursive: true})
    mkdirSync(path.join(invDir, 'inv-keys'), {recursive: true})
    process.chdir(work)
  })
  afterAll(() => process.chdir(cwd))

  it('the SSH pool (every command that connects to the nodes)', () => {
    const inv = inventory()
    const pool = (o: {flag?: string; inv?: LoadedInventory}) =>
      new SshPool({platform: (o.inv ?? inv).platform, inventoryDir: invDir, knownHostsFile: o.flag}).knownHostsFile
    expect(pool({flag: './kh'})).toBe(path.join(work, 'kh'))
    expect(pool({flag: 'keys/kh'})).toBe(path.join(work, 'keys', 'kh'))
    expect(pool({flag: '~/kh'})).toBe(path.join(os.homedir(), 'kh'))
    expect(pool({})).toBe(path.join(invDir, '.obsctl', 'known_hosts'))
    // the inventory's field stays the inventory's: from its folder
    const withField = inventory('inv-keys/kh')
    expect(pool({inv: withField})).toBe(path.join(invDir, 'inv-keys', 'kh'))
    expect(pool({inv: withField, flag: 'kh'})).toBe(path.join(work, 'kh'))
  })

  it("the flag's up-front check judges the file the run will use", () => {
    // keys/ exists here, not beside the inventory: a new file in it is fine
    expect(() => refuseBadFileFlags({'known-hosts': 'keys/kh'}, invDir)).not.toThrow()
    // inv-keys/ exists only beside the inventory: from here, its folder is missing
    expect(() => refuseBadFileFlags({'known-hosts': 'inv-keys/kh'}, invDir)).toThrow(/--known-hosts: .*work\/inv-keys/)
  })

  it("backup create keeps the file the run used (the flag's, from here)", () => {
    writeFileSync(path.join(work, 'kh'), '[127.0.1.250]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n')
    writeFileSync(path.join(invDir, 'kh'), '[127.0.1.250]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n')
    const inv = inventory()
    const files = stateFiles({inv, platform: inv.platform}, 'kh').map((f) => f.file)
    expect(files).toContain(path.join(work, 'kh'))
    expect(files).not.toContain(path.join(invDir, 'kh'))
    // the field, written with ~/ or relative, as the pool reads it
    const withField = inventory('inv-keys/kh')
    writeFileSync(path.join(invDir, 'inv-keys', 'kh'), '[127.0.1.250]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n')
    expect(stateFiles({inv: withField, platform: withField.platform}).map((f) => f.file)).toContain(path.join(invDir, 'inv-keys', 'kh'))
  })
})
