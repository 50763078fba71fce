/**
 * obsctl alerts list|silence|unsilence and validate's alertmanager.* checks against REAL Alertmanagers
 * (Debian prometheus-alertmanager v0.25, test/support/alertmanager.ts) on loopback: two replicas gossiping
 * as one cluster, real alerts posted to them (POST /api/v2/alerts), reached through the Kubernetes API
 * test server's service proxy (monitoring/kube-prometheus-stack-alertmanager:9093, forwarded to the real
 * server) as obsctl reaches it without an ingress, and directly at endpoints.alertmanager. Every outcome is
 * read back from Alertmanager's own API, not from obsctl's output.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {formatSilence, formatUnsilence, listAlerts, silence, unsilence} from '../../src/lib/alerts/index.js'
import {checkSilenceMatchers, parseMatchers} from '../../src/lib/alerts/matchers.js'
import type {LoadedInventory} from '../../src/lib/config/load.js'
import {validate, type Verdict} from '../../src/lib/validate/index.js'
import {ObsctlError} from '../../src/lib/errors.js'
import {startAlertmanager, type AlertmanagerPeer} from '../support/alertmanager.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {waitFor} from '../support/wait.js'
import {writeInventory} from '../s3/harness.js'
import {forward} from '../validate/deployed.js'
import {obsctlAsync as obsctl, requireBuild} from '../cli/helpers.js'

const ALERTING = {alerting: {receivers: [{name: 'ops', webhook: {urlEnv: 'OBSCTL_ALERT_WEBHOOK_URL'}}]}}
const withAlerting = (alertmanager?: string) => ({...ALERTING, ...(alertmanager ? {endpoints: {alertmanager}} : {})})

let am: AlertmanagerPeer
let kube: KubeServer
let dir: string
let kubeconfig: string
let inv: LoadedInventory
let invFile: string
const T = 20_000

interface ApiSilence {
  id: string
  status: {state: string}
  matchers: {name: string; value: string; isRegex: boolean; isEqual: boolean}[]
  comment: string
  createdBy: string
  endsAt: string
}
interface ApiAlert {
  labels: Record<string, string>
  status: {state: string; silencedBy: string[]}
}
const get = async <T>(url: string): Promise<T> => (await (await fetch(url, {signal: AbortSignal.timeout(T)})).json()) as T
const silenceOn = (base: string, id: string) => get<ApiSilence>(`${base}/api/v2/silence/${id}`)
const alertsOn = (base: string) => get<ApiAlert[]>(`${base}/api/v2/alerts`)
const alertNamed = async (base: string, name: string) => (await alertsOn(base)).find((a) => a.labels.alertname === name)

beforeAll(async () => {
  ;[am, [kube]] = (await Promise.all([startAlertmanager({replicas: 2, receivers: ['ops']}), startKubeServers(['cluster-01'])])) as [
    AlertmanagerPeer,
    KubeServer[],
  ]
  dir = mkdtempSync(path.join(tmpdir(), 'obsctl-alerts-'))
  kubeconfig = writeFleetKubeconfig(path.join(dir, 'kubeconfig'), [kube])
  kube.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'monitoring'}})
  kube.seed({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name: 'kube-prometheus-stack-alertmanager', namespace: 'monitoring'},
    spec: {ports: [{name: 'http-web', port: 9093}]},
  })
  kube.onProxy('services/monitoring/kube-prometheus-stack-alertmanager:9093', forward(am.url))
  ;({inv, file: invFile} = writeInventory(dir, 'http://127.0.0.1:9', withAlerting()))
  const soon = new Date(Date.now() + 3_600_000).toISOString()
  await am.postAlerts([
    {labels: {alertname: 'NodeDown', severity: 'critical', cluster: 'cluster-02', instance: 'node-3'}, annotations: {summary: 'node-3 is down'}, endsAt: soon},
    {
      labels: {alertname: 'KubePodCrashLooping', severity: 'warning', cluster: 'cluster-01', namespace: 'logging'},
      annotations: {summary: 'fluent-bit restarts'},
      endsAt: soon,
    },
    {labels: {alertname: 'Watchdog', severity: 'none', cluster: 'cluster-01'}, endsAt: soon},
  ])
  // alerts are processed asynchronously (state unprocessed first): wait until both replicas' views settle
  for (const u of am.urls)
    await waitFor(async () => (await alertsOn(u)).filter((a) => a.status.state === 'active').length === 3, 60_000, `three active alerts on ${u}`)
}, 180_000)

afterAll(async () => {
  await Promise.all([am?.close(), kube && stopKubeServers([kube])])
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const access = () => ({kubeconfig, requestTimeoutMs: T})

describe('matchers as amtool writes them', () => {
  it('parses operators, quotes, braces and the bare alert name', () => {
    expect(parseMatchers(['NodeDown', 'severity!=info', 'job=~"node.*"', 'ns!~kube-.*', 'msg="a \\"b\\", c"'])).toEqual([
      {name: 'alertname', op: '=', value: 'NodeDown'},
      {name: 'severity', op: '!=', value: 'info'},
      {name: 'job', op: '=~', value: 'node.*'},
      {name: 'ns', op: '!~', value: 'kube-.*'},
      {name: 'msg', op: '=', value: 'a "b", c'},
    ])
    expect(parseMatchers(['{alertname="A", cluster=~"c-0[12]"}'])).toEqual([
      {name: 'alertname', op: '=', value: 'A'},
      {name: 'cluster', op: '=~', value: 'c-0[12]'},
    ])
  })

  it('refuses bad ones with exit 2: no operator after the first, bad label, bad regex, unterminated quote, match-everything', () => {
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        return [(e as ObsctlError).exitCode, (e as ObsctlError).code]
      }
      return 'no error'
    }
    expect(code(() => parseMatchers(['a=b', 'NodeDown']))).toEqual([2, 'BAD_MATCHER'])
    expect(code(() => parseMatchers(['1abc=x']))).toEqual([2, 'BAD_MATCHER'])
    expect(code(() => parseMatchers(['job=~"(unclosed"']))).toEqual([2, 'BAD_MATCHER'])
    expect(code(() => parseMatchers(['job="abc']))).toEqual([2, 'BAD_MATCHER'])
    expect(code(() => checkSilenceMatchers(parseMatchers(['job=~".*"', 'severity!=critical'])))).toEqual([2, 'BROAD_MATCHER'])
    expect(code(() => checkSilenceMatchers(parseMatchers(['job=~".*"', 'severity=critical'])))).toBe('no error')
  })
})

describe('alerts through the central API server service proxy', () => {
  it('list: every alert with its labels and state; --cluster keeps that cluster’s', async () => {
    const all = await listAlerts(inv, access())
    expect(all.alertmanager).toMatch(/^API server proxy \/api\/v1\/namespaces\/monitoring\/services\/http:kube-prometheus-stack-alertmanager:9093\/proxy/)
    expect(all.alerts.map((a) => [a.alertname, a.cluster, a.severity, a.state])).toEqual([
      ['KubePodCrashLooping', 'cluster-01', 'warning', 'active'],
      ['NodeDown', 'cluster-02', 'critical', 'active'],
      ['Watchdog', 'cluster-01', 'none', 'active'],
    ])
    expect(all.alerts.find((a) => a.alertname === 'NodeDown')!.receivers).toEqual(['ops'])
    expect(all.alerts.find((a) => a.alertname === 'Watchdog')!.receivers).toEqual(['null'])
    const c2 = await listAlerts(inv, {...access(), cluster: 'cluster-02'})
    expect(c2.alerts.map((a) => a.alertname)).toEqual(['NodeDown'])
  })

  it('silence --dry-run shows the alerts it would silence and creates nothing', async () => {
    const before = await get<ApiSilence[]>(`${am.url}/api/v2/silences`)
    const r = await silence(inv, {...access(), matchers: ['NodeDown', 'cluster=~"cluster-0[2-4]"'], for: '2h', comment: 'node-3 maintenance', dryRun: true})
    expect(r).toMatchObject({dryRun: true, matchers: ['alertname="NodeDown"', 'cluster=~"cluster-0[2-4]"']})
    expect(r.id).toBeUndefined()
    expect(r.matching.map((a) => a.alertname)).toEqual(['NodeDown'])
    expect(await get<ApiSilence[]>(`${am.url}/api/v2/silences`)).toEqual(before)
    // the human view ends as every dry run's does
    expect(formatSilence(r).split('\n').slice(-2)).toEqual(['', 'dry run: nothing was changed'])
  })

  it('silence creates it in Alertmanager (gossiped to the other replica), the alert turns suppressed; unsilence expires it and the alert is active again', async () => {
    const t0 = Date.now()
    const asked = {...access(), matchers: ['NodeDown', 'cluster=~"cluster-0[2-4]"'], for: '2h', comment: 'node-3 maintenance', author: 'obsctl/tester'}
    const r = await silence(inv, asked)
    expect(r.dryRun).toBe(false)
    expect(r.state).toBe('active')
    expect(r).toMatchObject({action: 'created', changed: true})
    expect(r.matching.map((a) => a.alertname)).toEqual(['NodeDown'])
    let id = r.id!
    // in Alertmanager, on both replicas
    for (const base of am.urls) {
      await waitFor(async () => (await fetch(`${base}/api/v2/silence/${id}`)).status === 200, 60_000, `silence ${id} on ${base}`)
      const s = await silenceOn(base, id)
      expect(s.status.state).toBe('active')
      expect(s.comment).toBe('node-3 maintenance')
      expect(s.createdBy).toBe('obsctl/tester')
      expect(s.matchers).toEqual([
        {name: 'alertname', value: 'NodeDown', isRegex: false, isEqual: true},
        {name: 'cluster', value: 'cluster-0[2-4]', isRegex: true, isEqual: true},
      ])
      const hours = (Date.parse(s.endsAt) - t0) / 3_600_000
      expect(hours).toBeGreaterThan(1.99)
      expect(hours).toBeLessThan(2.01)
    }
    await waitFor(async () => (await alertNamed(am.url, 'NodeDown'))?.status.state === 'suppressed', 60_000, 'NodeDown suppressed')
    expect((await alertNamed(am.url, 'NodeDown'))!.status.silencedBy).toEqual([id])
    expect((await alertNamed(am.url, 'KubePodCrashLooping'))!.status.state).toBe('active')
    // list shows it, silenced, and the silence with its id
    const l = await listAlerts(inv, access())
    expect(l.alerts.find((a) => a.alertname === 'NodeDown')!.silencedBy).toEqual([id])
    expect(l.silences.map((s) => [s.id, s.state, s.matchers])).toContainEqual([id, 'active', ['alertname="NodeDown"', 'cluster=~"cluster-0[2-4]"']])

    // the same command again (a retry after a timeout, a CI job's rerun), matchers in another order: that silence, no second one
    const ours = async () =>
      (await get<ApiSilence[]>(`${am.url}/api/v2/silences`)).filter((s) => s.comment === 'node-3 maintenance' && s.status.state !== 'expired')
    const reordered = {...asked, matchers: ['cluster=~"cluster-0[2-4]"', 'alertname=NodeDown']}
    const dryAgain = await silence(inv, {...reordered, dryRun: true})
    expect(dryAgain).toMatchObject({dryRun: true, action: 'unchanged', changed: false, id, endsAt: r.endsAt})
    expect(formatSilence(dryAgain)).toContain(`Silence ${id} is already active`)
    const again = await silence(inv, reordered)
    expect(again).toMatchObject({dryRun: false, action: 'unchanged', changed: false, id, state: 'active', endsAt: r.endsAt})
    expect(formatSilence(again).split('\n')[0]).toBe(
      `Silence ${id} already active: alertname="NodeDown" cluster=~"cluster-0[2-4]" until ${r.endsAt} (by obsctl/tester: node-3 maintenance); nothing changed`,
    )
    expect((await ours()).map((s) => s.id)).toEqual([id])
    // asked for longer: the same silence now ends later (still one)
    const longer = await silence(inv, {...asked, for: '3h'})
    expect(longer).toMatchObject({action: 'extended', changed: true, state: 'active', previous: {id, endsAt: r.endsAt}})
    const now = await ours()
    expect(now.map((s) => s.id)).toEqual([longer.id])
    expect((Date.parse(now[0]!.endsAt) - t0) / 3_600_000).toBeGreaterThan(2.99)
    expect(formatSilence(longer).split('\n')[0]).toMatch(
      new RegExp(`^Silence ${longer.id} extended: .* until ${longer.endsAt} \\(by obsctl\\/tester: node-3 maintenance\\) \\(it ended at ${r.endsAt}`),
    )
    id = longer.id!
    await waitFor(async () => (await alertNamed(am.url, 'NodeDown'))?.status.silencedBy.join() === id, 60_000, 'NodeDown silenced by the extended silence')

    const dry = await unsilence(inv, {...access(), id, dryRun: true})
    expect(dry).toMatchObject({dryRun: true, before: 'active', state: 'active', changed: false})
    expect(formatUnsilence(dry).split('\n').slice(-2)).toEqual(['', 'dry run: nothing was changed'])
    expect((await silenceOn(am.url, id)).status.state).toBe('active')

    const u = await unsilence(inv, {...access(), id})
    expect(u).toMatchObject({changed: true, before: 'active', state: 'expired'})
    expect((await silenceOn(am.url, id)).status.state).toBe('expired')
    await waitFor(async () => (await alertNamed(am.url, 'NodeDown'))?.status.state === 'active', 60_000, 'NodeDown active again')
    // a second unsilence: already expired, nothing changes
    expect(await unsilence(inv, {...access(), id})).toMatchObject({changed: false, before: 'expired', state: 'expired'})
  })
})

describe('alerts at endpoints.alertmanager (an ingress URL), no Kubernetes', () => {
  it('list and silence reach the second replica directly', async () => {
    const {inv: direct} = writeInventory(mkdtempSync(path.join(dir, 'direct-')), 'http://127.0.0.1:9', withAlerting(am.urls[1]))
    const none = path.join(dir, 'no-kubeconfig')
    const l = await listAlerts(direct, {kubeconfig: none, requestTimeoutMs: T})
    expect(l.alertmanager).toBe(am.urls[1])
    expect(l.alerts.map((a) => a.alertname)).toEqual(['KubePodCrashLooping', 'NodeDown', 'Watchdog'])
    const r = await silence(direct, {kubeconfig: none, requestTimeoutMs: T, matchers: ['alertname=KubePodCrashLooping'], for: '30m', comment: 'rollout'})
    expect((await silenceOn(am.urls[1]!, r.id!)).status.state).toBe('active')
    await unsilence(direct, {kubeconfig: none, requestTimeoutMs: T, id: r.id!})
    expect((await silenceOn(am.urls[1]!, r.id!)).status.state).toBe('expired')
  })
})

describe('validate alertmanager.*', () => {
  const run = (i: LoadedInventory) => validate(i, {component: 'alertmanager', kubeconfig, requestTimeoutMs: T})
  const byId = (v: Verdict, id: string) => v.checks.find((c) => c.id === id)!

  it('pass: two peers in a ready cluster, the inventory’s receiver ops', async () => {
    const v = await run(inv)
    expect(byId(v, 'alertmanager.cluster')).toMatchObject({result: 'pass'})
    expect(byId(v, 'alertmanager.cluster').detail).toMatch(/^2\/2 peers, cluster ready: 127\.0\.0\.1:\d+ and 127\.0\.0\.1:\d+$/)
    expect(byId(v, 'alertmanager.receivers')).toMatchObject({result: 'pass', detail: '1 receiver(s): ops'})
    expect(v.ok).toBe(true)
  })

  it('fail: one Alertmanager without clustering and with only the null receiver', async () => {
    const lone = await startAlertmanager({replicas: 1, receivers: []})
    try {
      const {inv: i} = writeInventory(mkdtempSync(path.join(dir, 'lone-')), 'http://127.0.0.1:9', withAlerting(lone.url))
      const v = await run(i)
      expect(byId(v, 'alertmanager.cluster')).toMatchObject({
        result: 'fail',
        detail: 'clustering is disabled, but the inventory runs 2 replicas: each notifies on its own and a silence reaches only one',
      })
      expect(byId(v, 'alertmanager.receivers')).toMatchObject({result: 'fail', detail: 'only the "null" receiver: every alert is dropped'})
      expect(byId(v, 'alertmanager.receivers').hint).toMatch(/obsctl render/)
      expect(v.ok).toBe(false)
    } finally {
      await lone.close()
    }
  })

  it('fail (not pass) when Alertmanager cannot be reached', async () => {
    const {inv: i} = writeInventory(mkdtempSync(path.join(dir, 'dead-')), 'http://127.0.0.1:9', withAlerting('http://127.0.0.1:9'))
    const v = await run(i)
    expect(v.checks.map((c) => c.result)).toEqual(['fail', 'fail'])
    expect(byId(v, 'alertmanager.cluster').detail).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/)
  })
})

describe('the CLI', () => {
  beforeAll(() => requireBuild())
  const env = () => ({KUBECONFIG: kubeconfig, OBSCTL_CONFIG: invFile})

  it('alerts list --json is an object with the alerts and silences', async () => {
    const r = await obsctl(['alerts', 'list', '--cluster', 'cluster-01', '--json', '--request-timeout', '20'], {env: env()})
    expect(r.status, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.alerts.map((a: {alertname: string}) => a.alertname)).toEqual(['KubePodCrashLooping', 'Watchdog'])
    expect(Array.isArray(j.silences)).toBe(true)
  })

  it('alerts silence then unsilence: the silence is in Alertmanager, then expired', async () => {
    const s = await obsctl(['alerts', 'silence', 'alertname=Watchdog', '--for', '1h', '--comment', 'cli test', '--request-timeout', '20'], {env: env()})
    expect(s.status, s.stderr).toBe(0)
    const id = /^Silence (\S+) active/m.exec(s.stdout)?.[1]
    expect(id, s.stdout).toBeDefined()
    expect((await silenceOn(am.url, id!)).status.state).toBe('active')
    // run again (--json): exit 0, the same silence, nothing created
    const count = async () => (await get<ApiSilence[]>(`${am.url}/api/v2/silences`)).filter((x) => x.comment === 'cli test').length
    const again = await obsctl(['alerts', 'silence', 'alertname=Watchdog', '--for', '1h', '--comment', 'cli test', '--request-timeout', '20', '--json'], {
      env: env(),
    })
    expect(again.status, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({id, action: 'unchanged', changed: false, state: 'active'})
    expect(await count()).toBe(1)
    const u = await obsctl(['alerts', 'unsilence', id!, '--json', '--request-timeout', '20'], {env: env()})
    expect(u.status, u.stderr).toBe(0)
    expect(JSON.parse(u.stdout)).toMatchObject({id, state: 'expired', changed: true})
    expect((await silenceOn(am.url, id!)).status.state).toBe('expired')
  })

  it('bad input is exit 2 with the fix, and nothing is created', async () => {
    const before = (await get<ApiSilence[]>(`${am.url}/api/v2/silences`)).length
    const broad = await obsctl(['alerts', 'silence', 'severity!=info', '--comment', 'x', '--json'], {env: env()})
    expect(broad.status).toBe(2)
    expect(JSON.parse(broad.stdout).error.code).toBe('BROAD_MATCHER')
    const dur = await obsctl(['alerts', 'silence', 'NodeDown', '--for', '2 hours', '--comment', 'x'], {env: env()})
    expect(dur.status).toBe(2)
    expect(dur.stderr).toMatch(/--for: expected a duration such as 30m, 2h or 1d .* but received: "2 hours"/)
    const noComment = await obsctl(['alerts', 'silence', 'NodeDown'], {env: env()})
    expect(noComment.status).toBe(2)
    expect(noComment.stderr).toMatch(/--comment/)
    const cluster = await obsctl(['alerts', 'list', '--cluster', 'cluster-9'], {env: env()})
    expect(cluster.status).toBe(2)
    expect(cluster.stderr).toMatch(/--cluster cluster-9: no such cluster/)
    const unknown = await obsctl(['alerts', 'unsilence', '00000000-0000-4000-8000-000000000000', '--request-timeout', '20'], {env: env()})
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toMatch(/alertmanager has no silence 00000000/)
    expect((await get<ApiSilence[]>(`${am.url}/api/v2/silences`)).length).toBe(before)
  })
})
