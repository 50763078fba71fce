import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {configSet, upgradeChart} from '../../src/lib/flows/change-run.js'
import {formatChange} from '../../src/lib/fleet/change.js'
import {secretSetting, withholdDeep} from '../../src/lib/config/validators.js'
import {ObsctlError} from '../../src/lib/errors.js'
import {obsctl, requireBuild} from '../cli/helpers.js'
import {workspace, type Workspace} from './helpers.js'

let ws: Workspace | undefined
afterEach(() => {
  ws?.cleanup()
  ws = undefined
})

/** byte ranges where a and b differ (after the common prefix/suffix) */
function changedSpan(a: string, b: string): {before: string; after: string} {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  let j = 0
  while (j < a.length - i && a[a.length - 1 - j] === b[b.length - 1 - j]) j++
  return {before: a.slice(i, a.length - j), after: b.slice(i, b.length - j)}
}

async function expectExit2(p: Promise<unknown>, code?: string): Promise<ObsctlError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(e).toBeInstanceOf(ObsctlError)
  expect((e as ObsctlError).exitCode).toBe(2)
  if (code) expect((e as ObsctlError).code).toBe(code)
  return e as ObsctlError
}

describe('config set', () => {
  it('retention.prometheus 8h: only the value bytes change, the values file is re-rendered, committed and pushed with a message naming the change', async () => {
    ws = await workspace()
    const before = readFileSync(ws.file, 'utf8')
    const headBefore = ws.remoteGit('rev-parse', 'main').trim()
    const diffs: string[] = []
    const r = await configSet(ws.inv(), 'retention.prometheus', '8h', {yes: true, sync: false, onDiff: (t) => diffs.push(t)})
    const after = readFileSync(ws.file, 'utf8')
    expect(changedSpan(before, after)).toEqual({before: '6', after: '8'})
    expect(r.previous).toBe('6h')
    expect(r.value).toBe('8h')
    expect(r.render.changed.length).toBeGreaterThan(0)
    expect(r.render.changed.some((f) => f.includes('kube-prometheus-stack/values.yaml'))).toBe(true)
    expect(r.render.added).toEqual([])
    expect(r.render.removed).toEqual([])
    expect(r.render.diff).toMatch(/^-.*6h/m)
    expect(r.render.diff).toMatch(/^\+.*8h/m)
    expect(diffs[0]).toContain('retention.prometheus: 6h → 8h')
    // the working copy has it, and the remote got the commit
    const values = r.render.changed.find((f) => f.endsWith('kube-prometheus-stack/values.yaml'))!
    expect(readFileSync(path.join(ws.gitops, values), 'utf8')).toContain('8h')
    const head = ws.remoteGit('rev-parse', 'main').trim()
    expect(head).not.toBe(headBefore)
    expect(head).toBe(r.push!.commit)
    expect(ws.remoteGit('log', '-1', '--format=%s', 'main').trim()).toBe('obsctl: set retention.prometheus 6h → 8h')
    expect(ws.remoteGit('show', '--name-only', '--format=', 'main').trim().split('\n').sort()).toEqual([...r.render.changed, '.obsctl-render.json'].sort())
    expect(r.sync).toBeNull()
  })

  it('--dry-run shows the diff and writes, commits and pushes nothing', async () => {
    ws = await workspace()
    const before = readFileSync(ws.file, 'utf8')
    const head = ws.remoteGit('rev-parse', 'main').trim()
    const r = await configSet(ws.inv(), 'retention.thanos.raw', '60d', {dryRun: true})
    expect(r.dryRun).toBe(true)
    expect(r.render.changed.length).toBeGreaterThan(0)
    expect(r.render.diff).toMatch(/^\+.*60d/m)
    expect(readFileSync(ws.file, 'utf8')).toBe(before)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(head)
  })

  it('an invalid edit exits 2 and writes nothing (4h: the lint wants >= 6h local retention beside the sidecar)', async () => {
    ws = await workspace()
    const before = readFileSync(ws.file, 'utf8')
    const head = ws.remoteGit('rev-parse', 'main').trim()
    const e = await expectExit2(configSet(ws.inv(), 'retention.prometheus', '4h', {yes: true, sync: false}), 'EDIT_INVALID')
    expect(e.message).toContain('under 6h')
    // the edit brings the error (the file on disk is valid): "would make", not "invalid inventory" as for an error already there
    expect(e.message).toMatch(/^config set retention\.prometheus 4h would make the inventory invalid; nothing was written:\n/)
    await expectExit2(configSet(ws.inv(), 'retention.prometheus', 'soon', {yes: true, sync: false}))
    await expectExit2(configSet(ws.inv(), 'no.such.path', '1', {yes: true, sync: false}))
    await expectExit2(configSet(ws.inv(), 'clusters.cluster-02.metrics', 'carrier-pigeon', {yes: true, sync: false}))
    expect(readFileSync(ws.file, 'utf8')).toBe(before)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(head)
  })

  it('an invalid file: config set of the broken field mends it (written, rendered, pushed); with another error left, exit 2 naming that one as the file’s, nothing written or pushed', async () => {
    requireBuild()
    ws = await workspace()
    const w = ws
    const env = {env: {XDG_CACHE_HOME: path.join(w.dir, 'cache')}}
    const good = readFileSync(w.file, 'utf8')
    const broken = good.replace(/^( {2}prometheus: )6h /m, '$16x ')
    const twice = broken.replace(/^ {2}user: bsh$/m, '  user: "b sh"')
    expect(twice).not.toBe(broken)
    const line = (text: string, start: string) => text.split('\n').findIndex((l) => l.startsWith(start)) + 1
    const head = w.remoteGit('rev-parse', 'main').trim()

    // two errors; the edit mends one: the other blocks it, named as the file's own (not the field being set) with file:line
    writeFileSync(w.file, twice)
    const r = await obsctl(['config', 'set', 'retention.prometheus', '8h', '-c', w.file, '--yes', '--no-sync'], env)
    expect(r.status, r.stderr).toBe(2)
    expect(r.stderr).toContain(
      `Error: invalid inventory ${w.file}, with or without config set retention.prometheus 8h; nothing was written. Errors blocking it, already in the file (not retention.prometheus, the field the edit sets):\n${w.file}:${line(twice, '  user:')}:9 ssh.user: "b sh" is not a login name`,
    )
    expect(r.stderr).not.toMatch(/retention\.prometheus: expected a duration/)
    // a value of its own that is wrong too: its error first, then the file's
    const j = await obsctl(['config', 'set', 'retention.prometheus', '4x', '-c', w.file, '--yes', '--no-sync', '--json'], env)
    expect(j.status).toBe(2)
    const e = JSON.parse(j.stdout) as {error: {code: string; message: string; details: {problems: {path: string; location: string; alreadyInFile: boolean}[]}}}
    expect(e.error.code).toBe('EDIT_INVALID')
    expect(e.error.message).toMatch(
      /^config set retention\.prometheus 4x would make the inventory invalid; nothing was written:\n.*:\d+:15 retention\.prometheus: expected a duration.*\nAlso blocking it, already in the file/,
    )
    expect(e.error.details.problems.map((pr) => [pr.path, pr.alreadyInFile])).toEqual([
      ['retention.prometheus', false],
      ['ssh.user', true],
    ])
    expect(readFileSync(w.file, 'utf8')).toBe(twice)
    expect(w.remoteGit('rev-parse', 'main').trim()).toBe(head)

    // the one error is the field being set: mended, only its bytes changed, rendered, committed and pushed
    writeFileSync(w.file, broken)
    const ok = await obsctl(['config', 'set', 'retention.prometheus', '8h', '-c', w.file, '--yes', '--no-sync'], env)
    expect(ok.status, ok.stderr).toBe(0)
    expect(ok.stdout).toContain('retention.prometheus: 6x → 8h')
    expect(changedSpan(broken, readFileSync(w.file, 'utf8'))).toEqual({before: '6x', after: '8h'})
    expect(w.remoteGit('log', '-1', '--format=%s', 'main').trim()).toBe('obsctl: set retention.prometheus 6x → 8h')
  })

  it('without a terminal and without --yes it refuses (exit 2, naming --yes) and writes nothing', async () => {
    ws = await workspace()
    const before = readFileSync(ws.file, 'utf8')
    const e = await expectExit2(configSet(ws.inv(), 'retention.prometheus', '8h', {sync: false}), 'NO_TTY')
    expect(e.hints.join(' ')).toContain('--yes')
    expect(readFileSync(ws.file, 'utf8')).toBe(before)
  })

  it('the same value again is a no-op; --no-push commits but leaves the remote alone; a rerun pushes the pending commit', async () => {
    ws = await workspace()
    const noop = await configSet(ws.inv(), 'retention.prometheus', '6h', {yes: true, sync: false})
    expect(noop.noop).toBe(true)
    const head = ws.remoteGit('rev-parse', 'main').trim()
    const r = await configSet(ws.inv(), 'retention.prometheus', '12h', {yes: true, sync: false, push: false})
    expect(r.commit).toBeTruthy()
    expect(r.push).toBeNull()
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(head)
    // rerun (resume): the inventory already says 12h and the working copy is rendered, but the commit was never pushed
    const again = await configSet(ws.inv(), 'retention.prometheus', '12h', {yes: true, sync: false})
    expect(again.noop).toBe(false)
    expect(again.commit).toBeNull()
    expect(again.push!.commit).toBe(r.commit!.sha)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(r.commit!.sha)
    // and now there is nothing left to do
    expect((await configSet(ws.inv(), 'retention.prometheus', '12h', {yes: true, sync: false})).noop).toBe(true)
  })
})

describe('config set: a secret typed as a value is never repeated (summary, diff, --json, commit message)', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcHMifQ.c2lnbmF0dXJlLWJ5dGVzLTAx'
  it.each([
    ['a GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
    ['a JWT', jwt],
    ['a long hex secret', 'd1a9c0ffee42beef1234567890abcdef00112233'],
    ['a password-like word', 'P4ss!word9'],
  ])('%s as s3.region: withheld from what the command prints and from the commit on the remote; the inventory holds it', async (_what, secret) => {
    requireBuild()
    ws = await workspace()
    const r = await obsctl(['config', 'set', 's3.region', secret, '-c', ws.file, '--yes', '--no-sync'], {env: {XDG_CACHE_HOME: path.join(ws.dir, 'cache')}})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).not.toContain(secret)
    expect(r.stdout).toContain('set s3.region us-east-1 → ***')
    // the commit that reached the remote: subject and body
    const message = ws.remoteGit('log', '-1', '--format=%B', 'main')
    expect(message).toMatch(/^obsctl: set s3\.region us-east-1 → \*\*\*\n/)
    expect(message).not.toContain(secret)
    // what it sets is set: the inventory holds the value (the user's own file)
    expect(readFileSync(ws.file, 'utf8')).toContain(secret)
    // --json: the result holds no secret either, and setting it back withholds the old value
    const back = await obsctl(['config', 'set', 's3.region', 'eu-west-1', '-c', ws.file, '--yes', '--no-sync', '--json'], {
      env: {XDG_CACHE_HOME: path.join(ws.dir, 'cache')},
    })
    expect(back.status, back.stderr).toBe(0)
    expect(back.stdout + back.stderr).not.toContain(secret)
    expect(JSON.parse(back.stdout)).toMatchObject({title: 'set s3.region *** → eu-west-1', previous: '***', value: 'eu-west-1'})
    expect(ws.remoteGit('log', '-1', '--format=%s', 'main').trim()).toBe('obsctl: set s3.region *** → eu-west-1')
  })

  it('an error that would quote such a value (a field rule, a lint finding, the edit named in the message, a hint) shows *** by the same rule, on stderr and in --json; nothing written', async () => {
    requireBuild()
    ws = await workspace()
    const w = ws
    const hex = 'd1a9c0ffee42beef1234567890abcdef00112233'
    const env = {env: {XDG_CACHE_HOME: path.join(w.dir, 'cache')}}
    // cluster-02 already names that context (a lint finding quotes the duplicate); the file is the user's own
    const text = readFileSync(w.file, 'utf8').replace(/(\n {2}- name: cluster-02\n)/, `$1    context: ${hex}\n`)
    expect(text).toContain(`context: ${hex}`)
    writeFileSync(w.file, text)
    const cases: {args: string[]; code: string; shows: string[]}[] = [
      // the schema's rule for the field quotes the value
      {args: ['s3.endpoint', hex], code: 'EDIT_INVALID', shows: ['config set s3.endpoint *** would make the inventory invalid', '"***" is not a URL']},
      // a lint finding quotes it
      {
        args: ['clusters.cluster-03.context', hex],
        code: 'EDIT_INVALID',
        shows: ['config set clusters.cluster-03.context *** would make', 'duplicate kubeconfig context "***" (also clusters[1] (cluster-02))'],
      },
      // only the edit's own words quote it
      {args: ['retention.prometheus', 'P4ss!word9'], code: 'EDIT_INVALID', shows: ['config set retention.prometheus *** would make the inventory invalid']},
      // a hint quotes it
      {args: ['versions.kubernetes', 'P4ss!word9'], code: 'USE_UPGRADE_KUBERNETES', shows: ['obsctl upgrade kubernetes *** upgrades the clusters']},
    ]
    for (const c of cases) {
      const secret = c.args[1]!
      const human = await obsctl(['config', 'set', ...c.args, '-c', w.file, '--dry-run'], env)
      expect(human.status, human.stderr).toBe(2)
      expect(human.stdout + human.stderr, c.args[0]).not.toContain(secret)
      for (const part of c.shows) expect(human.stderr).toContain(part)
      const json = await obsctl(['config', 'set', ...c.args, '-c', w.file, '--dry-run', '--json'], env)
      expect(json.status, json.stderr).toBe(2)
      expect(json.stdout + json.stderr, c.args[0]).not.toContain(secret)
      const e = (JSON.parse(json.stdout) as {error: {code: string; message: string}}).error
      expect(e.code).toBe(c.code)
      expect(e.message + JSON.stringify(e)).toContain(c.shows[0])
    }
    expect(readFileSync(w.file, 'utf8')).toBe(text)
    // a value that does not look like a secret is still quoted as typed
    const plain = await obsctl(['config', 'set', 's3.endpoint', 'not-a-url', '-c', w.file, '--dry-run'], env)
    expect(plain.status).toBe(2)
    expect(plain.stderr).toContain('config set s3.endpoint not-a-url would make the inventory invalid')
    expect(plain.stderr).toContain('"not-a-url" is not a URL')
  })

  it('withholdDeep masks a withheld value in every string of an error; a short one only where it stands alone', () => {
    expect(withholdDeep({message: 'x P4ss!word9 y', hints: ['"P4ss!word9"'], n: 3}, ['P4ss!word9'])).toEqual({message: 'x *** y', hints: ['"***"'], n: 3})
    expect(withholdDeep('set a.password abc: "abc" is short; fabric stays', ['abc'])).toBe('set a.password ***: "***" is short; fabric stays')
  })

  it('a value at a secret-named path is withheld; versions, host names, URLs, numbers, durations and names are shown', () => {
    for (const [path, value] of [
      ['alerting.receivers.0.webhook.password', 'plain'],
      ['s3.region', 'Bearer abcdefgh12345678'],
      ['git.remote', 'https://ops:hunter2@git.example.test/x.git'],
      ['s3.region', 'hunter2@home'],
    ])
      expect(secretSetting(path, value), `${path} ${value}`).toBe(true)
    for (const [path, value] of [
      ['versions.charts.kube-prometheus-stack', '79.0.0'],
      ['versions.argocd', 'v3.1.9'],
      ['s3.region', 'eu-west-1'],
      ['s3.endpoint', 'https://s3.minio.miribit.lab'],
      ['s3.secretKeyEnv', 'OBSCTL_S3_SECRET_KEY'],
      ['git.tokenEnv', 'OBSCTL_GIT_TOKEN'],
      ['replicas.prometheus', '2'],
      ['retention.prometheus', '12h'],
      ['clusters.cluster-02.nodes.0.memory', '16Gi'],
      ['clusters.cluster-02.loadBalancerIPs', '[192.168.101.215-192.168.101.219]'],
      ['clusters.cluster-02.name', 'cluster-production-eu-west-01'],
      ['alerting.receivers.0.email.to', 'ops-team2@example.com'],
    ])
      expect(secretSetting(path, value), `${path} ${value}`).toBe(false)
  })
})

describe('upgrade chart', () => {
  it('bumps the kustomization chart version, shows the diff, commits and pushes', async () => {
    ws = await workspace()
    const diffs: string[] = []
    const r = await upgradeChart(ws.inv(), 'kube-prometheus-stack', '79.0.0', {yes: true, sync: false, onDiff: (t) => diffs.push(t)})
    expect(readFileSync(ws.file, 'utf8')).toContain('kube-prometheus-stack: 79.0.0')
    const kust = r.render.changed.filter((f) => f.endsWith('kube-prometheus-stack/kustomization.yaml'))
    expect(kust.length).toBeGreaterThan(0)
    for (const f of kust) expect(readFileSync(path.join(ws.gitops, f), 'utf8')).toMatch(/version: "?79\.0\.0"?/)
    expect(diffs[0]).toMatch(/^-\s+version: "?78\.2\.1"?/m)
    expect(diffs[0]).toMatch(/^\+\s+version: "?79\.0\.0"?/m)
    expect(ws.remoteGit('log', '-1', '--format=%s', 'main').trim()).toBe('obsctl: upgrade kube-prometheus-stack 78.2.1 → 79.0.0')
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(r.commit!.sha)

    // the same command again (a retry, a CI job's rerun): exit 0, nothing to do, no second commit or push
    const inventory = readFileSync(ws.file, 'utf8')
    const again = await upgradeChart(ws.inv(), 'kube-prometheus-stack', '79.0.0', {yes: true, sync: false})
    expect(again).toMatchObject({noop: true, inventory: {changed: false}, render: {added: [], changed: [], removed: []}})
    expect(formatChange(again)).toBe('versions.charts.kube-prometheus-stack is already 79.0.0 and the repository is rendered: nothing to change')
    expect(readFileSync(ws.file, 'utf8')).toBe(inventory)
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(r.commit!.sha)
  })

  it('an unknown chart exits 2 listing the charts; the version it is at already is nothing to do (exit 0)', async () => {
    ws = await workspace()
    const e = await expectExit2(upgradeChart(ws.inv(), 'grafana', '1.0.0', {yes: true, sync: false}), 'UNKNOWN_CHART')
    expect(e.hints.join(' ')).toContain('kube-prometheus-stack')
    expect(e.hints.join(' ')).toContain('longhorn')
    const head = ws.remoteGit('rev-parse', 'main').trim()
    expect(await upgradeChart(ws.inv(), 'longhorn', '1.10.0', {yes: true, sync: false})).toMatchObject({noop: true})
    expect(ws.remoteGit('rev-parse', 'main').trim()).toBe(head)
  })
})

describe('a $KUBECONFIG the sync could not use is refused before anything is written', () => {
  // the sync reads the kubeconfig only after the inventory is written, committed and pushed: without this check the
  // change was on the remote and the command then stopped at the sync, exit 2 (the engine's own check)
  const withEnv = async <T>(value: string, f: () => Promise<T>): Promise<T> => {
    const old = process.env.KUBECONFIG
    process.env.KUBECONFIG = value
    try {
      return await f()
    } finally {
      if (old === undefined) delete process.env.KUBECONFIG
      else process.env.KUBECONFIG = old
    }
  }

  it('config set, upgrade chart and rollback: a folder, or no file at all, is exit 2 naming KUBECONFIG; inventory and remote unchanged; --no-sync needs none', async () => {
    ws = await workspace()
    const w = ws
    const before = readFileSync(w.file, 'utf8')
    const head = w.remoteGit('rev-parse', 'main').trim()
    const {rollback} = await import('../../src/lib/gitops/rollback.js')
    for (const bad of [w.gitops, path.join(w.gitops, 'no-such-kubeconfig')]) {
      for (const run of [
        () => configSet(w.inv(), 'retention.prometheus', '8h', {yes: true}),
        () => upgradeChart(w.inv(), 'kube-prometheus-stack', '79.0.0', {yes: true}),
        () => rollback(w.inv(), {yes: true}),
      ]) {
        const e = await withEnv(bad, () => expectExit2(run(), 'KUBECONFIG_ENV'))
        expect(e.message).toContain('$KUBECONFIG')
        expect(readFileSync(w.file, 'utf8')).toBe(before)
        expect(w.remoteGit('rev-parse', 'main').trim()).toBe(head)
      }
    }
    // without the sync nothing reads it: the change goes through
    const r = await withEnv(w.gitops, () => configSet(w.inv(), 'retention.prometheus', '8h', {yes: true, sync: false}))
    expect(r.push?.commit).toBe(w.remoteGit('rev-parse', 'main').trim())
  })
})
