/**
 * git.remote as the drift check (obsctl diff) and the Argo CD sync wait hand it to git: git reads an address that is
 * not a URL as scp-like ssh ([user@]host:path) when it holds a colon and no slash before the first one (git's
 * url_is_local_not_ssh; git-clone(1) "GIT URLS"), with or without user@; anything else is a local path, which obsctl
 * resolves from the inventory's folder. The fetch test runs real git on both sides, with GIT_SSH standing in for ssh:
 * a script that records the host git asked for and runs git's command on a bare repository here.
 *
 * Git also takes the host in brackets — `git@[fd00::1]:path`, `[::1]:path`, and `[user@host:port]:path`, the short
 * form of ssh://user@host:port/path (connect.c host_end and get_host_and_port) — and strips them before it calls ssh.
 * The parser is held to git's own reading of each address: `git fetch-pack --diag-url`, which parses and connects
 * nowhere. Argo CD reads git.remote (its repoURL) with go-git, whose scp-like syntax has no brackets, so the inventory
 * check refuses these forms, naming the ssh:// URL both read the same.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {remoteLocation} from '../../src/lib/gitops/git.js'
import {fetchRemote} from '../../src/lib/gitops/remote-tree.js'
import {isSshRemote} from '../../src/lib/argocd/rootapp.js'
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

describe('remoteLocation: scp-like remotes are left to git, with or without user@ (the inventory asks for one)', () => {
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
    expect(gitRemoteError('git@git.lab:platform/gitops.git')).toBeUndefined()
    expect(gitRemoteError('-oProxyCommand=x:repo')).toMatch(/-oProxyCommand=x/)
    for (const bad of ['git.lab:', '@git.lab:x.git', 'git@:x.git']) expect(gitRemoteError(bad), bad).toMatch(/not a Git remote/)
  })

  it("an ssh remote names its user: Argo CD's repoURL is ssh only with USER@, and the deploy key goes with an ssh remote", () => {
    // argo-cd util/git IsSSHURL: ^(ssh://)?([^/:]*?)@[^@]+$ (read through the search tool): no user, no ssh login name
    expect(gitRemoteError('git.lab:platform/gitops.git')).toBe(
      '"git.lab:platform/gitops.git" names no ssh user: git would log in as yours, but Argo CD reads git.remote (its repoURL) as ssh only with USER@ and logs in as that user: write git@git.lab:platform/gitops.git (git is the user GitHub, GitLab and Gitea expect)',
    )
    expect(gitRemoteError('ssh://git.lab:2222/platform/gitops.git')).toMatch(/names no ssh user: .* write ssh:\/\/git@git\.lab:2222\/platform\/gitops\.git /)
    // digits and ':' first in the path: git's path, go-git's port (go-git internal/url scpLikeUrlRegExp)
    expect(gitRemoteError('git@git.lab:2222:platform/gitops.git')).toBe(
      '"git@git.lab:2222:platform/gitops.git": git reads the path "2222:platform/gitops.git" on git.lab, but Argo CD (go-git) reads 2222 as an ssh port and the path "platform/gitops.git": write ssh://git@git.lab:2222/platform/gitops.git for that port',
    )
    for (const ok of [
      'git@git.lab:platform/gitops.git',
      'ssh://git@git.lab:2222/platform/gitops.git',
      'deploy@192.0.2.7:gitops.git',
      'git@git.lab:2222/gitops.git',
    ])
      expect(gitRemoteError(ok), ok).toBeUndefined()
    // private over ssh: the key, not a token; one reading of the address with the inventory check (scpLikeRemote)
    for (const ssh of ['git@git.lab:platform/gitops.git', 'ssh://git@git.lab/x.git', 'git.lab:x.git', 'deploy@192.0.2.7:gitops.git'])
      expect(isSshRemote(ssh), ssh).toBe(true)
    for (const other of ['https://git.lab/x.git', 'git://git.lab/x.git', '/srv/git/x.git', './a:b']) expect(isSshRemote(other), other).toBe(false)
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

/** git's own reading of an address (`git fetch-pack --diag-url`: parsed, never connected), or 'local', or git's error */
function gitReading(remote: string, repo: string): {userAndHost: string; port?: number; path: string} | 'local' | {error: string} {
  const r = spawnSync('git', ['fetch-pack', '--diag-url', remote], {cwd: repo, encoding: 'utf8', env: {...process.env, GIT_ALLOW_PROTOCOL: 'file:ssh'}})
  if (r.status !== 0) return {error: r.stderr.trim()}
  const diag = Object.fromEntries([...r.stdout.matchAll(/^Diag: (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]))
  if (diag.protocol !== 'ssh') return 'local'
  return {userAndHost: diag.userandhost!, ...(diag.port === 'NONE' ? {} : {port: Number(diag.port)}), path: diag.path!}
}

describe('scpLikeRemote reads an address as git does, brackets included', () => {
  it('the same user, host, port and path as git fetch-pack --diag-url', () => {
    execFileSync('git', ['init', '-q', tmp])
    for (const remote of [
      'git.lab:platform/gitops.git',
      'git@git.lab:platform/gitops.git',
      'git.lab:/srv/git/gitops.git',
      'git.lab:~user/gitops.git',
      '192.0.2.7:gitops.git',
      'git@[fd00::1]:platform/gitops.git',
      '[::1]:repo.git',
      '[fd00::1]:/srv/git/gitops.git',
      '[git@fd00::1]:repo.git',
      '[git@host.lab:2222]:repo.git',
      '[host.lab:2222]:repo.git',
      'git@[host.lab:2222]:repo.git',
      'user@[host.lab]:x',
      '[not-an-ip]:x',
      // git's reading, whatever was meant: the host fd00 on port 22; a port past 65535 stays in the host
      '[fd00:22]:x',
      '[host:99999]:x',
      // git's reading of unbalanced or stray brackets: hosts no inventory takes
      '[fd00::1',
      'git@[fd00::1',
      'a[b]:c',
      './a:b',
      '/srv/a:b',
      'gitops.git',
    ]) {
      const git = gitReading(remote, tmp)
      if ('error' in Object(git)) throw new Error(`git refuses ${remote}: ${(git as {error: string}).error}`)
      const ours = scpLikeRemote(remote)
      if (git === 'local') expect(ours, remote).toBeUndefined()
      else
        expect(
          {
            userAndHost: `${ours?.user === undefined ? '' : `${ours.user}@`}${ours?.host}`,
            ...(ours?.port === undefined ? {} : {port: ours.port}),
            path: ours?.path,
          },
          remote,
        ).toEqual(git)
    }
  })

  it('git hands ssh the host without brackets, and the port as -p (GIT_SSH records its arguments and connects nowhere)', () => {
    const log = path.join(tmp, 'ssh.args')
    // named ssh so that git takes it for OpenSSH and passes -p
    const ssh = path.join(tmp, 'ssh')
    writeFileSync(ssh, `#!/bin/bash\nprintf '%s\\n' "$@" >'${log}'\nexit 1\n`)
    chmodSync(ssh, 0o755)
    const argsFor = (remote: string) => {
      rmSync(log, {force: true})
      spawnSync('git', ['ls-remote', remote], {cwd: tmp, env: {...process.env, GIT_SSH: ssh, GIT_ALLOW_PROTOCOL: 'ssh', GIT_TERMINAL_PROMPT: '0'}})
      return readFileSync(log, 'utf8').trim().split('\n')
    }
    const v6 = argsFor('git@[fd00::1]:platform/gitops.git')
    expect(v6).toContain('git@fd00::1')
    expect(v6.at(-1)).toBe("git-upload-pack 'platform/gitops.git'")
    expect(v6).not.toContain('-p')
    expect(scpLikeRemote('git@[fd00::1]:platform/gitops.git')).toEqual({user: 'git', host: 'fd00::1', path: 'platform/gitops.git', bracketed: true})

    const port = argsFor('[git@host.lab:2222]:repo.git')
    expect(port.slice(port.indexOf('-p'), port.indexOf('-p') + 2)).toEqual(['-p', '2222'])
    expect(port).toContain('git@host.lab')
    expect(scpLikeRemote('[git@host.lab:2222]:repo.git')).toEqual({user: 'git', host: 'host.lab', port: 2222, path: 'repo.git', bracketed: true})
  })

  it('remoteLocation leaves every form git reads as ssh to git (never a folder beside the inventory)', () => {
    for (const remote of ['git@[fd00::1]:platform/gitops.git', '[::1]:repo.git', '[git@host.lab:2222]:repo.git', '[fd00::1'])
      expect(remoteLocation(remote, '/srv/inventory'), remote).toBe(remote)
  })
})

describe('the inventory check on bracketed scp-like remotes', () => {
  it('refuses what git reads but Argo CD (go-git) would not, naming the ssh:// URL both read the same', () => {
    const cases: [string, string][] = [
      ['git@[fd00::1]:platform/gitops.git', 'ssh://git@[fd00::1]/platform/gitops.git'],
      // no user: the address named has git@, as Argo CD needs one (noSshUserError)
      ['[::1]:repo.git', 'ssh://git@[::1]/repo.git'],
      ['[git@fd00::1]:/srv/git/gitops.git', 'ssh://git@[fd00::1]/srv/git/gitops.git'],
      ['[git@host.lab:2222]:repo.git', 'ssh://git@host.lab:2222/repo.git'],
      ['git@[192.0.2.7:2222]:repo.git', 'ssh://git@192.0.2.7:2222/repo.git'],
      // git reads the host not-an-ip (a name); brackets around a name without a port need no URL
      ['[not-an-ip]:x', 'git@not-an-ip:x'],
      ['user@[git.lab]:platform/gitops.git', 'user@git.lab:platform/gitops.git'],
    ]
    for (const [remote, instead] of cases) {
      const e = gitRemoteError(remote)
      expect(e, remote).toContain(`write ${instead}`)
      expect(e, remote).toMatch(/go-git/)
    }
    // the address named is read by git as the same user, host and port, and the path from the server's root where
    // the scp-like one started in the ssh user's home (which the message says)
    execFileSync('git', ['init', '-q', tmp])
    const rooted = (r: ReturnType<typeof gitReading>) => (typeof r === 'object' && 'path' in r ? {...r, path: r.path.replace(/^\//, '')} : r)
    const withUser = (remote: string, r: ReturnType<typeof gitReading>) =>
      typeof r === 'object' && 'userAndHost' in r && !/@/.test(r.userAndHost) && !/^\[?[^[]*@/.test(remote) ? {...r, userAndHost: `git@${r.userAndHost}`} : r
    for (const [remote, instead] of cases) {
      expect(rooted(gitReading(instead, tmp)), instead).toEqual(rooted(withUser(remote, gitReading(remote, tmp))))
      expect(gitRemoteError(instead), instead).toBeUndefined()
    }
    expect(gitRemoteError('git@[fd00::1]:platform/gitops.git')).toMatch(/a URL's path starts at the server's root.*give the full path/)
    expect(gitRemoteError('[git@fd00::1]:/srv/git/gitops.git')).not.toMatch(/server's root/)
  })

  it('refuses brackets git would read as another host, an address that is none, a zone, a port out of range', () => {
    for (const [remote, says] of [
      // git: the host "[fd00", the path ":1"
      ['[fd00::1', /'\[' without its '\]'/],
      ['git@[fd00::1', /'\[' without its '\]'/],
      ['a[b]:c', /'\[' or '\]'/],
      ['[fd00::1]x:y', /'\[' or '\]'/],
      ['[[fd00::1]]:x', /'\[' or '\]'/],
      ['[git@[fd00::1]:2222]:x', /'\[' or '\]'/],
      // git: no path
      ['[fd00::1]', /'\[' or '\]'|not a Git remote/],
      ['[fd00::1]:', /not a Git remote/],
      ['[fd00::zz]:x', /not an IPv4 or IPv6 address/],
      ['[fd00::1%eth0]:x', /not an IPv4 or IPv6 address/],
      ['[host:0]:x', /port/],
      ['[host:99999]:x', /99999/],
      ['[host:]:x', /host:/],
      ['[]:x', /not a Git remote/],
      // an IPv6 host without brackets: git splits it at its first ':'
      ['git@fd00::1:platform/gitops.git', /the host "fd00" and the path ":1:platform\/gitops\.git"/],
    ] as const)
      expect(gitRemoteError(remote), remote).toMatch(says)
  })

  it('a password in the user is refused without being repeated', () => {
    const e = gitRemoteError('[git:s3cr3t-pw@git.lab:2222]:repo.git')
    expect(e).toMatch(/carries a password.*git\.sshKeyFile/)
    expect(e).not.toContain('s3cr3t-pw')
  })

  it('ssh:// with an IPv6 host, with or without a port, is taken', () => {
    for (const remote of ['ssh://git@[fd00::1]/platform/gitops.git', 'ssh://git@[fd00::1]:2222/platform/gitops.git', 'ssh://deploy@[::1]/repo.git'])
      expect(gitRemoteError(remote), remote).toBeUndefined()
  })
})
