/**
 * git.remote as the drift check (obsctl diff) and the Argo CD sync wait hand it to git: git reads an address that is
 * not a URL as scp-like ssh ([user@]host:path) when it holds a colon and no slash before the first one (git's
 * url_is_local_not_ssh; git-clone(1) "GIT URLS"), with or without user@; anything else is a local path, which obsctl
 * resolves from the inventory's folder. The fetch test runs real git on both sides, with GIT_SSH standing in for ssh:
 * a script that records the host git asked for and runs git's command on a bare repository here.
 */
import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {remoteLocation} from '../../src/lib/gitops/git.js'
import {fetchRemote} from '../../src/lib/gitops/remote-tree.js'
import {gitRemoteError, scpLikeRemote} from '../../src/lib/config/validators.js'

let tmp: string
const ENV = ['GIT_SSH', 'GIT_ALLOW_PROTOCOL'] as const
let envBefore: (string | undefined)[]
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-remote-location-'))
  envBefore = ENV.map((k) => process.env[k])
})
afterEach(() => {
  ENV.forEach((k, i) => (envBefore[i] === undefined ? delete process.env[k] : (process.env[k] = envBefore[i])))
  rmSync(tmp, {recursive: true, force: true})
})

describe('remoteLocation: scp-like remotes are left to git, with or without user@', () => {
  it('reads each address as git reads it', () => {
    const inv = '/srv/inventory'
    for (const remote of [
      'git.lab:platform/gitops.git',
      'git@git.lab:platform/gitops.git',
      'git.lab:/srv/git/gitops.git',
      '192.0.2.7:gitops.git',
      'https://git.lab/platform/gitops.git',
      'ssh://git@git.lab/platform/gitops.git',
      '/srv/git/gitops.git',
    ])
      expect(remoteLocation(remote, inv), remote).toBe(remote)
    // a slash before the first colon: a local path, from the inventory's folder
    expect(remoteLocation('./mirror/gitops.git', inv)).toBe('/srv/inventory/mirror/gitops.git')
    expect(remoteLocation('../mirrors/a:b.git', inv)).toBe('/srv/mirrors/a:b.git')
  })

  it('one parser: the inventory check and the drift check agree on the host', () => {
    expect(scpLikeRemote('git.lab:platform/gitops.git')).toEqual({user: undefined, host: 'git.lab', path: 'platform/gitops.git'})
    expect(scpLikeRemote('git@git.lab:platform/gitops.git')).toEqual({user: 'git', host: 'git.lab', path: 'platform/gitops.git'})
    for (const local of ['./a:b', '/srv/a:b', 'https://git.lab/x.git', 'gitops.git']) expect(scpLikeRemote(local), local).toBeUndefined()
    expect(gitRemoteError('git.lab:platform/gitops.git')).toBeUndefined()
    expect(gitRemoteError('-oProxyCommand=x:repo')).toMatch(/-oProxyCommand=x/)
    for (const bad of ['git.lab:', '@git.lab:x.git', 'git@:x.git']) expect(gitRemoteError(bad), bad).toMatch(/not a Git remote/)
  })

  it('the drift check fetches git.lab:platform/gitops.git over ssh from git.lab, not from a folder named so', async () => {
    const served = path.join(tmp, 'served')
    const bare = path.join(served, 'platform', 'gitops.git')
    mkdirSync(bare, {recursive: true})
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare])
    const work = path.join(tmp, 'work')
    execFileSync('git', ['init', '-q', '-b', 'main', work])
    writeFileSync(path.join(work, 'root-app.yaml'), 'kind: Application\n')
    const id = ['-c', 'user.name=t', '-c', 'user.email=t@t']
    execFileSync('git', ['-C', work, 'add', '.'])
    execFileSync('git', ['-C', work, ...id, 'commit', '-qm', 'render'])
    execFileSync('git', ['-C', work, 'push', '-q', bare, 'HEAD:refs/heads/main'])
    const commit = execFileSync('git', ['-C', work, 'rev-parse', 'HEAD'], {encoding: 'utf8'}).trim()
    // what git runs as ssh: `<ssh> [options] HOST COMMAND`; the host is recorded, the command runs in `served`
    const log = path.join(tmp, 'ssh.log')
    const ssh = path.join(tmp, 'ssh')
    writeFileSync(
      ssh,
      `#!/bin/bash\nwhile [[ $1 == -* ]]; do shift; [[ $1 != -* && $# -gt 2 ]] && shift; done\necho "$1" >>'${log}'\ncd '${served}' && exec bash -c "$2"\n`,
    )
    chmodSync(ssh, 0o755)
    // the suite allows git only file:// (test/support/global-setup.ts); this ssh never leaves the machine
    process.env.GIT_SSH = ssh
    process.env.GIT_ALLOW_PROTOCOL = 'file:ssh'
    const inventoryDir = path.join(tmp, 'inventory')
    mkdirSync(inventoryDir)

    const remote = await fetchRemote('git.lab:platform/gitops.git', 'main', inventoryDir)
    try {
      expect(remote.commit).toBe(commit)
      expect(await remote.read('root-app.yaml')).toBe('kind: Application\n')
    } finally {
      remote.close()
    }
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['git.lab', 'git.lab'])
  })
})
