/**
 * Alerting (issue 12 item 12): the inventory's receivers and routes, linted with file:line, rendered into
 * kube-prometheus-stack's `alertmanager.config`, and checked by the real Alertmanager tooling: the rendered
 * values merged over the chart's own values (kube-prometheus-stack 78.2.1 from ../shared/upstream, as Helm
 * merges them) give the configuration Alertmanager loads; `amtool check-config` must accept it and
 * `amtool config routes test` must route sample alerts to the receivers the inventory says; a real
 * Alertmanager (Debian 0.25) loaded with it delivers to loopback stand-ins of Slack and PagerDuty with
 * the values it reads from the `*_file` files.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import net from 'node:net'
import {gunzipSync} from 'node:zlib'
import YAML from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, lintInventory, parseInventory, renderInventoryYaml, type LintReport} from '../../src/lib/config/index.js'
import {ALERTMANAGER_SECRETS_DIR} from '../../src/lib/alerts/config.js'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {startFake, type FakeRequest} from '../support/http-fake.js'
import {which} from '../support/peers.js'
import {exampleInventory} from '../support/inventory.js'
import {waitForValue} from '../support/wait.js'
import {startAlertmanager} from '../support/alertmanager.js'

const FILE = '/lab/obsctl.yaml'
const EXAMPLE = renderInventoryYaml(EXAMPLE_ANSWERS)
const VALUES = 'deploy/overlays/cluster-01-central/kube-prometheus-stack/values.yaml'

/** The example with its commented alerting block switched on (all four receiver kinds, three routes). */
function withAlertingExample(text = EXAMPLE): string {
  const lines = text.split('\n')
  const start = lines.findIndex((l) => l.startsWith('# alerting:'))
  if (start < 0) throw new Error('the example has no commented alerting block')
  for (let i = start; i < lines.length && lines[i]!.startsWith('#'); i++) lines[i] = lines[i]!.slice(2)
  return lines.join('\n')
}

function lineOf(text: string, needle: string, from = 0): number {
  const i = text.split('\n').findIndex((l, n) => n >= from && l.includes(needle))
  if (i < 0) throw new Error(`not in text: ${needle}`)
  return i + 1
}

const lint = (text: string): LintReport => lintInventory(parseInventory(text, FILE))

type Values = Record<string, unknown>
const charts = JSON.parse(gunzipSync(readFileSync(new URL('../../../shared/upstream/charts.json.gz', import.meta.url))).toString('utf8')) as Record<
  string,
  {values: Values; templateRefs: string[]}
>
const KPS = charts['kube-prometheus-stack']!
const GRAFANA = charts.grafana!

const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v)
/** Helm's coalescing of user values over chart values: maps merge key by key, anything else (lists too) replaces. */
function helmMerge(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over
  const out: Values = {...base}
  for (const [k, v] of Object.entries(over)) out[k] = v === null ? undefined : helmMerge(base[k], v)
  return out
}

function renderedValues(text: string): Values {
  const files = renderFiles(parseInventory(text, FILE).platform)
  const f = files.find((x) => x.path === VALUES)
  if (!f) throw new Error(`no ${VALUES} in ${files.map((x) => x.path).join(', ')}`)
  return YAML.parse(f.content) as Values
}

/** The configuration Alertmanager loads: the chart's alertmanager.config with ours merged over it. */
function effectiveConfig(values: Values): Values {
  return helmMerge(KPS.values.alertmanager && (KPS.values.alertmanager as Values).config, (values.alertmanager as Values).config) as Values
}

let tmp: string
let amtoolVersion: [number, number]
beforeAll(() => {
  if (!which('amtool')) throw new Error('amtool missing: install Debian prometheus-alertmanager (test/support/peers.ts installs it as root)')
  tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-alerting-'))
  const v = /version (\d+)\.(\d+)/.exec(execFileSync('amtool', ['--version'], {encoding: 'utf8'}))!
  amtoolVersion = [Number(v[1]), Number(v[2])]
})
afterAll(() => tmp && rmSync(tmp, {recursive: true, force: true}))

/**
 * Write the config for amtool: every `*_file` it names is created (under tmp, with a value of the right shape)
 * and the path rewritten to it. Debian's amtool 0.25 predates webhook_configs[].url_file (Alertmanager v0.26,
 * PR #3223; the chart runs v0.28.1): with amtool < 0.26 that one field is given as `url` with the file's
 * content, so everything else is still checked by Alertmanager's own parser.
 */
function writeForAmtool(config: Values, name: string, samples: Record<string, string> = {}): string {
  const dir = path.join(tmp, name)
  mkdirSync(dir, {recursive: true})
  const sample: Record<string, string> = {
    auth_password_file: 'smtp-Pw-sample',
    api_url_file: 'https://hooks.slack.com/services/T000/B000/XXXX',
    url_file: 'https://tickets.example.org/hook?token=abc',
    routing_key_file: '0123456789abcdef0123456789abcdef',
    service_key_file: '0123456789abcdef0123456789abcdef',
    ...samples,
  }
  const oldAmtool = amtoolVersion[0] === 0 && amtoolVersion[1] < 26
  const rewrite = (o: unknown): unknown => {
    if (Array.isArray(o)) return o.map(rewrite)
    if (!isMap(o)) return o
    const out: Values = {}
    for (const [k, v] of Object.entries(o)) {
      if (k.endsWith('_file') && typeof v === 'string' && v.startsWith(ALERTMANAGER_SECRETS_DIR)) {
        const f = path.join(dir, path.basename(v))
        writeFileSync(f, sample[k] ?? 'x', {mode: 0o600})
        if (k === 'url_file' && oldAmtool) out.url = sample[k]
        else out[k] = f
      } else out[k] = rewrite(v)
    }
    return out
  }
  const file = path.join(dir, 'alertmanager.yaml')
  writeFileSync(file, YAML.stringify(rewrite(config)))
  return file
}

function amtool(args: string[]): {status: number | null; out: string} {
  const r = spawnSync('amtool', args, {encoding: 'utf8', env: {...process.env, HOME: tmp}})
  return {status: r.status, out: `${r.stdout}${r.stderr}`}
}

const routeOf = (file: string, labels: string[]) =>
  amtool(['config', 'routes', 'test', `--config.file=${file}`, ...labels])
    .out.split('\n')[0]!
    .trim()

describe('alerting: config validate', () => {
  it('the example (alerting commented out) warns once that alerts reach nobody, with no error', () => {
    const r = lint(EXAMPLE)
    expect(r.errors).toBe(0)
    const w = r.findings.filter((f) => f.id === 'alerting-no-receiver')
    expect(w).toHaveLength(1)
    expect(w[0]!.severity).toBe('warning')
    expect(w[0]!.message).toContain('reach nobody')
  })

  it('the example with its alerting block switched on lints clean of alerting findings', () => {
    const r = lint(withAlertingExample())
    expect(r.errors).toBe(0)
    expect(r.findings.filter((f) => f.id.startsWith('alerting'))).toEqual([])
  })

  // field edits go through the inventory builder (test/support/inventory.ts); a text edit only where a field is removed
  const CASES: {name: string; set?: Record<string, unknown>; from?: string; to?: string; id: string; path: string; needle: string}[] = [
    {
      name: 'a route names an unknown receiver',
      set: {'alerting.routes[1].receiver': 'ops-slak'},
      id: 'alerting-unknown-receiver',
      path: 'alerting.routes[1].receiver',
      needle: 'receiver: ops-slak',
    },
    {
      name: 'defaultReceiver names an unknown receiver',
      set: {'alerting.defaultReceiver': 'nobody'},
      id: 'alerting-unknown-receiver',
      path: 'alerting.defaultReceiver',
      needle: 'defaultReceiver: nobody',
    },
    {
      name: 'a route names an unknown cluster',
      set: {'alerting.routes[2].clusters[0]': 'cluster-09'},
      id: 'alerting-unknown-cluster',
      path: 'alerting.routes[2].clusters[0]',
      needle: 'clusters: [cluster-09]',
    },
    {
      name: 'a receiver named null',
      set: {'alerting.receivers[3].name': 'null'},
      id: 'alerting-receiver-name',
      path: 'alerting.receivers[3].name',
      needle: 'name: "null"',
    },
    {
      name: 'two receivers with one name',
      set: {'alerting.receivers[3].name': 'oncall'},
      id: 'alerting-receiver-name',
      path: 'alerting.receivers[3].name',
      needle: 'webhook: {urlEnv',
    },
    {
      name: 'a route that matches everything',
      from: '{receiver: ticketing, clusters: [cluster-02]}',
      to: '{receiver: ticketing}',
      id: 'alerting-route-matches-all',
      path: 'alerting.routes[2]',
      needle: '{receiver: ticketing}',
    },
    {
      name: 'PagerDuty with both keys',
      set: {'alerting.receivers[2].pagerduty.serviceKeyEnv': 'PD_V1'},
      id: 'alerting-pagerduty-key',
      path: 'alerting.receivers[2].pagerduty',
      needle: 'serviceKeyEnv: PD_V1',
    },
    {
      name: 'SMTP login without a password',
      from: ', authPasswordEnv: OBSCTL_SMTP_PASSWORD}',
      to: '}',
      id: 'alerting-email-auth',
      path: 'alerting.receivers[0].email.authUsername',
      needle: 'authUsername: alertmanager',
    },
    {
      // Alertmanager's LOGIN mechanism would send the password on a connection without STARTTLS
      name: 'SMTP login with requireTls: false (not the TLS port 465)',
      from: ', authPasswordEnv: OBSCTL_SMTP_PASSWORD}',
      to: ', authPasswordEnv: OBSCTL_SMTP_PASSWORD, requireTls: false}',
      id: 'alerting-email-plaintext-auth',
      path: 'alerting.receivers[0].email.requireTls',
      needle: 'requireTls: false',
    },
  ]
  for (const c of CASES) {
    it(`error with file:line: ${c.name}`, () => {
      const base = withAlertingExample()
      if (c.from !== undefined && !base.includes(c.from)) throw new Error(`no ${c.from}`)
      const text = c.set ? exampleInventory(c.set, base) : base.replace(c.from!, c.to!)
      const r = lint(text)
      const f = r.findings.find((x) => x.id === c.id && x.path === c.path)
      expect(f, JSON.stringify(r.findings, null, 1)).toBeDefined()
      expect(f!.severity).toBe('error')
      // the line of the field (receivers[3] of the duplicate: the line after the webhook line's receiver)
      const line = c.name === 'two receivers with one name' ? lineOf(text, c.needle) - 1 : lineOf(text, c.needle, lineOf(text, 'alerting:'))
      expect(f!.location).toMatch(new RegExp(`^${FILE}:${line}:\\d+$`))
      expect(f!.fix.length).toBeGreaterThan(5)
    })
  }

  it('SMTP login with requireTls: false on port 465 (TLS from the first byte) is no finding', () => {
    const text = withAlertingExample()
      .replace(', authPasswordEnv: OBSCTL_SMTP_PASSWORD}', ', authPasswordEnv: OBSCTL_SMTP_PASSWORD, requireTls: false}')
      .replace(/smarthost: smtp\.([a-z.]+):587/, 'smarthost: smtp.$1:465')
    expect(text).toContain(':465, authUsername')
    expect(lint(text).findings.filter((f) => f.id === 'alerting-email-plaintext-auth')).toEqual([])
  })

  it('schema: an unknown receiver kind and a secret given as a value are rejected at load, with file:line', () => {
    const text = withAlertingExample().replace('webhook: {urlEnv: OBSCTL_ALERT_WEBHOOK_URL}', 'webhook: {url: "https://x.example.org/hook?token=abc"}')
    expect(() => parseInventory(text, FILE)).toThrow(
      new RegExp(`${FILE}:${lineOf(text, 'webhook: {url:')}:\\d+: alerting\\.receivers\\[3\\]\\.webhook\\.url: unknown field "url"`),
    )
  })
})

describe('alerting: the rendered Alertmanager configuration', () => {
  it('without receivers: the chart defaults stay (inhibit rules, templates), Watchdog and the rest go to null; amtool accepts it', () => {
    const values = renderedValues(EXAMPLE)
    const am = values.alertmanager as Values
    expect((am.alertmanagerSpec as Values).secrets).toBeUndefined()
    const config = effectiveConfig(values)
    expect(config.inhibit_rules).toEqual((KPS.values.alertmanager as {config: Values}).config.inhibit_rules)
    expect(config.templates).toEqual(['/etc/alertmanager/config/*.tmpl'])
    expect(config.receivers).toEqual([{name: 'null'}])
    const file = writeForAmtool(config, 'none')
    const r = amtool(['check-config', file])
    expect(r.status, r.out).toBe(0)
    expect(routeOf(file, ['alertname=Watchdog'])).toBe('null')
    expect(routeOf(file, ['alertname=KubePodCrashLooping', 'severity=critical'])).toBe('null')
  })

  it('with all four receiver kinds: *_file fields under the mounted Secret, no value; amtool check-config accepts it and routes as the inventory says', () => {
    const text = withAlertingExample()
    const values = renderedValues(text)
    const am = values.alertmanager as Values
    expect((am.alertmanagerSpec as Values).secrets).toEqual(['alertmanager-receivers'])
    const config = effectiveConfig(values)
    const dir = `${ALERTMANAGER_SECRETS_DIR}/alertmanager-receivers`
    expect(config.receivers).toEqual([
      {name: 'null'},
      {
        name: 'ops-email',
        email_configs: [
          {
            to: 'ops@miribit.lab',
            from: 'alertmanager@miribit.lab',
            smarthost: 'smtp.miribit.lab:587',
            auth_username: 'alertmanager',
            auth_password_file: `${dir}/ops-email.smtp-password`,
          },
        ],
      },
      {name: 'ops-slack', slack_configs: [{api_url_file: `${dir}/ops-slack.slack-webhook-url`, channel: '#alerts'}]},
      {name: 'oncall', pagerduty_configs: [{routing_key_file: `${dir}/oncall.pagerduty-routing-key`}]},
      {name: 'ticketing', webhook_configs: [{url_file: `${dir}/ticketing.webhook-url`}]},
    ])
    const route = config.route as Values
    expect(route.receiver).toBe('ops-email')
    expect((route.routes as Values[])[0]).toEqual({receiver: 'null', matchers: ['alertname = "Watchdog"']})
    // the chart's inhibit rules are still there
    expect((config.inhibit_rules as unknown[]).length).toBeGreaterThan(0)

    const file = writeForAmtool(config, 'all-kinds')
    const r = amtool(['check-config', file])
    expect(r.status, r.out).toBe(0)
    expect(r.out).toContain('SUCCESS')
    expect(r.out).toMatch(/5 receivers/)
    // first match wins unless continue: critical goes to PagerDuty and Slack; a warning to Slack;
    // anything from cluster-02 that is not critical/warning to the ticketing webhook; the rest by e-mail
    expect(routeOf(file, ['alertname=TargetDown', 'severity=critical', 'cluster=cluster-03'])).toBe('oncall,ops-slack')
    expect(routeOf(file, ['alertname=TargetDown', 'severity=warning', 'cluster=cluster-01'])).toBe('ops-slack')
    expect(routeOf(file, ['alertname=FluentBitOutputErrors', 'severity=info', 'cluster=cluster-02'])).toBe('ticketing')
    expect(routeOf(file, ['alertname=Something', 'severity=info', 'cluster=cluster-04'])).toBe('ops-email')
    expect(routeOf(file, ['alertname=Watchdog', 'severity=none'])).toBe('null')
  })

  it('a PagerDuty v1 service key, raw matchers, send_resolved, require_tls and a per-route repeat interval render as Alertmanager fields amtool accepts', () => {
    const text = exampleInventory(
      {
        'alerting.receivers[2].pagerduty': {serviceKeyEnv: 'OBSCTL_PAGERDUTY_SERVICE_KEY'},
        'alerting.receivers[2].sendResolved': false,
        'alerting.receivers[0].email.requireTls': true,
        'alerting.routes[2]': {
          receiver: 'ticketing',
          clusters: ['cluster-02', 'cluster-03'],
          matchers: ['namespace =~ "logging|monitoring"'],
          repeatInterval: '4h',
        },
      },
      withAlertingExample(),
    )
    expect(lint(text).errors).toBe(0)
    const config = effectiveConfig(renderedValues(text))
    const receivers = config.receivers as Values[]
    expect(receivers.find((x) => x.name === 'oncall')).toEqual({
      name: 'oncall',
      pagerduty_configs: [{send_resolved: false, service_key_file: `${ALERTMANAGER_SECRETS_DIR}/alertmanager-receivers/oncall.pagerduty-service-key`}],
    })
    expect((receivers.find((x) => x.name === 'ops-email')!.email_configs as Values[])[0]!.require_tls).toBe(true)
    expect((config.route as {routes: Values[]}).routes[3]).toEqual({
      receiver: 'ticketing',
      matchers: ['cluster =~ "cluster-02|cluster-03"', 'namespace =~ "logging|monitoring"'],
      repeat_interval: '4h',
    })
    const file = writeForAmtool(config, 'v1-matchers')
    const r = amtool(['check-config', file])
    expect(r.status, r.out).toBe(0)
    expect(routeOf(file, ['severity=info', 'cluster=cluster-03', 'namespace=logging'])).toBe('ticketing')
    expect(routeOf(file, ['severity=info', 'cluster=cluster-03', 'namespace=default'])).toBe('ops-email')
  })

  it('a route to "null" drops what it matches (e.g. a noisy alert), and lints clean', () => {
    const text = withAlertingExample().replace(
      '  routes:                          # first match wins unless continue: true\n',
      '  routes:\n    - {receiver: "null", matchers: [\'alertname = "CPUThrottlingHigh"\']}\n',
    )
    expect(lint(text).findings.filter((f) => f.id.startsWith('alerting'))).toEqual([])
    const file = writeForAmtool(effectiveConfig(renderedValues(text)), 'null-route')
    expect(amtool(['check-config', file]).status).toBe(0)
    expect(routeOf(file, ['alertname=CPUThrottlingHigh', 'severity=critical'])).toBe('null')
    expect(routeOf(file, ['alertname=KubePodCrashLooping', 'severity=critical'])).toBe('oncall,ops-slack')
  })

  it('the values paths obsctl sets exist in kube-prometheus-stack 78.2.1 (values or template paths)', () => {
    const has = (chart: {values: Values; templateRefs: string[]}, p: string) => {
      let cur: unknown = chart.values
      for (const k of p.split('.')) cur = isMap(cur) ? cur[k] : undefined
      return cur !== undefined || chart.templateRefs.includes(p)
    }
    for (const p of [
      'alertmanager.config',
      'alertmanager.config.route',
      'alertmanager.config.receivers',
      'alertmanager.alertmanagerSpec.secrets',
      'grafana.additionalDataSources',
    ])
      expect(has(KPS, p), p).toBe(true)
    for (const p of ['plugins', 'envValueFrom']) expect(has(GRAFANA, p), `grafana ${p}`).toBe(true)
    // alertmanager.config is rendered by the chart as a whole (toYaml into the config Secret): its keys are Alertmanager's, checked by amtool above
  })
})

describe('alerting: a real Alertmanager delivers with the values of the mounted files', () => {
  it('critical alert → PagerDuty (routing key read from routing_key_file) and Slack (URL read from api_url_file), nothing else; no traffic leaves loopback', async () => {
    if (!which('prometheus-alertmanager')) throw new Error('prometheus-alertmanager missing: install Debian prometheus-alertmanager')
    const got: {kind: string; req: FakeRequest}[] = []
    const fake = await startFake([
      ['POST', /^\/v2\/enqueue$/, (req) => (got.push({kind: 'pagerduty', req}), {status: 202, json: {status: 'success'}})],
      ['POST', /^\/slack\/(.+)$/, (req) => (got.push({kind: 'slack', req}), {text: 'ok'})],
      ['POST', /^\/hook$/, (req) => (got.push({kind: 'webhook', req}), {text: 'ok'})],
    ])
    const secretPath = 'T0OBSCTL/B0TEST/hookSecretPart'
    const routingKey = 'r0utingKeyFromTheMountedFile0001'
    const config = effectiveConfig(renderedValues(withAlertingExample()))
    // loopback only: PagerDuty's API URL and the SMTP smarthost point at this test; no waiting for groups
    config.global = {...(config.global as Values), pagerduty_url: `${fake.url}/v2/enqueue`}
    const route = config.route as Values
    route.group_wait = '0s'
    for (const r of config.receivers as Values[]) for (const e of (r.email_configs as Values[] | undefined) ?? []) e.smarthost = '127.0.0.1:1'
    const file = writeForAmtool(config, 'delivery', {
      api_url_file: `${fake.url}/slack/${secretPath}`,
      routing_key_file: routingKey,
      url_file: `${fake.url}/hook`,
    })
    expect(amtool(['check-config', file]).status).toBe(0)

    // the real Alertmanager on that file (its secrets' paths are absolute), on loopback (test/support/alertmanager.ts)
    const am = await startAlertmanager({config: readFileSync(file, 'utf8')})
    try {
      const res = await fetch(`${am.url}/api/v2/alerts`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify([
          {labels: {alertname: 'TargetDown', severity: 'critical', cluster: 'cluster-03', namespace: 'monitoring'}, annotations: {summary: 'a target is down'}},
        ]),
      })
      expect(res.status).toBe(200)
      await waitForValue(
        'PagerDuty and Slack notifications',
        async () => got.some((g) => g.kind === 'pagerduty') && got.some((g) => g.kind === 'slack'),
        60_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\nreceived: ${JSON.stringify(got.map((g) => g.kind))}\nalertmanager log:\n${am.log()}`)
      })
      const pd = JSON.parse(got.find((g) => g.kind === 'pagerduty')!.req.body) as {routing_key: string; event_action: string; payload: {severity: string}}
      expect(pd.routing_key).toBe(routingKey)
      expect(pd.event_action).toBe('trigger')
      const slack = got.find((g) => g.kind === 'slack')!.req
      expect(slack.path).toBe(`/slack/${secretPath}`)
      expect((JSON.parse(slack.body) as {channel: string}).channel).toBe('#alerts')
      // first match wins: the ticketing webhook (cluster-02) and e-mail (the default) got nothing
      expect(got.filter((g) => g.kind === 'webhook')).toEqual([])
      expect(am.log()).not.toMatch(/smtp|127\.0\.0\.1:1/)
    } finally {
      await am.close()
      await fake.close()
    }
  }, 120_000)
})

/**
 * A loopback SMTP listener that offers AUTH LOGIN and no STARTTLS, as a plain-text relay does. It records every line
 * the client sends and decodes LOGIN's base64 answers.
 */
async function smtpListener(): Promise<{port: number; lines: string[]; logins: string[]; close(): Promise<void>}> {
  const lines: string[] = []
  const logins: string[] = []
  const server = net.createServer((sock) => {
    let buf = ''
    let state: 'cmd' | 'user' | 'pass' | 'data' = 'cmd'
    const say = (s: string) => sock.write(`${s}\r\n`)
    say('220 stub.lab ESMTP')
    sock.on('data', (d) => {
      buf += d.toString('latin1')
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 2)
        lines.push(line)
        if (state === 'data') {
          if (line === '.') {
            state = 'cmd'
            say('250 queued')
          }
          continue
        }
        if (state === 'user' || state === 'pass') {
          logins.push(Buffer.from(line, 'base64').toString('utf8'))
          const next = state === 'user' ? `334 ${Buffer.from('Password:').toString('base64')}` : '235 authenticated'
          state = state === 'user' ? 'pass' : 'cmd'
          say(next)
          continue
        }
        const verb = line.split(' ')[0]!.toUpperCase()
        if (verb === 'EHLO') say(['250-stub.lab', '250 AUTH LOGIN'].join('\r\n'))
        else if (verb === 'AUTH') {
          state = 'user'
          say(`334 ${Buffer.from('Username:').toString('base64')}`)
        } else if (verb === 'DATA') {
          state = 'data'
          say('354 go on')
        } else if (verb === 'QUIT') {
          say('221 bye')
          sock.end()
        } else say('250 ok')
      }
    })
    sock.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    lines,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe('alerting: why requireTls: false with a login is refused (the real Alertmanager 0.25 against a loopback SMTP listener)', () => {
  // Alertmanager's own LOGIN mechanism (notify/email: loginAuth.Start) does not ask whether the connection is
  // encrypted, unlike Go's PLAIN; the server's AUTH list decides which one it uses. A server that offers LOGIN gets
  // the password, base64 only, on a plain connection. With require_tls left at its default, Alertmanager stops before
  // AUTH when the server offers no STARTTLS.
  const password = 'smtp-Pw-readable-on-the-wire'
  const deliverTo = async (smtp: {port: number}, requireTls: boolean | undefined) => {
    const email = 'smarthost: smtp.miribit.lab:587, authUsername: alertmanager, authPasswordEnv: OBSCTL_SMTP_PASSWORD'
    const text = withAlertingExample().replace(email, requireTls === false ? `${email}, requireTls: false` : email)
    const config = effectiveConfig(renderedValues(text))
    ;(config.route as Values).group_wait = '0s'
    const receivers = config.receivers as Values[]
    const mail = receivers.find((r) => r.name === 'ops-email')!.email_configs as Values[]
    expect(mail[0]!.require_tls).toBe(requireTls)
    mail[0]!.smarthost = `127.0.0.1:${smtp.port}`
    // the other receivers are not reached by this alert; keep them on loopback anyway
    config.global = {...(config.global as Values), pagerduty_url: 'http://127.0.0.1:1/v2/enqueue'}
    const file = writeForAmtool(config, `smtp-${String(requireTls)}`, {
      auth_password_file: password,
      api_url_file: 'http://127.0.0.1:1/slack',
      url_file: 'http://127.0.0.1:1/hook',
    })
    expect(amtool(['check-config', file]).status).toBe(0)
    const am = await startAlertmanager({config: readFileSync(file, 'utf8')})
    // severity info on cluster-01: no route matches, so the default receiver (ops-email) gets it
    await am.postAlerts([{labels: {alertname: 'DiskFilling', severity: 'info', cluster: 'cluster-01'}}])
    return {am, lint: lint(text)}
  }

  it('requireTls: false: config validate refuses it; the real Alertmanager logs in without TLS and the password crosses readable', async () => {
    if (!which('prometheus-alertmanager')) throw new Error('prometheus-alertmanager missing: install Debian prometheus-alertmanager')
    const smtp = await smtpListener()
    const {am, lint: report} = await deliverTo(smtp, false)
    try {
      expect(report.findings.filter((f) => f.severity === 'error').map((f) => f.id)).toContain('alerting-email-plaintext-auth')
      await waitForValue('the SMTP listener got a mail', async () => smtp.lines.includes('.'), 60_000).catch((e: Error) => {
        throw new Error(`${e.message}\nsmtp saw: ${JSON.stringify(smtp.lines)}\nalertmanager log:\n${am.log()}`)
      })
      expect(smtp.lines).toContain('AUTH LOGIN')
      expect(smtp.lines.some((l) => /^STARTTLS/i.test(l))).toBe(false)
      // base64 is an encoding, not encryption: anyone on the path reads it
      expect(smtp.logins).toEqual(['alertmanager', password])
    } finally {
      await am.close()
      await smtp.close()
    }
  }, 120_000)

  it("requireTls left at Alertmanager's default: no STARTTLS offered, so it never logs in, and the inventory lints clean", async () => {
    if (!which('prometheus-alertmanager')) throw new Error('prometheus-alertmanager missing: install Debian prometheus-alertmanager')
    const smtp = await smtpListener()
    const {am, lint: report} = await deliverTo(smtp, undefined)
    try {
      expect(report.findings.map((f) => f.id)).not.toContain('alerting-email-plaintext-auth')
      await waitForValue('Alertmanager gave up on the SMTP server', async () => /does not advertise the STARTTLS extension/.test(am.log()), 60_000).catch(
        (e: Error) => {
          throw new Error(`${e.message}\nsmtp saw: ${JSON.stringify(smtp.lines)}\nalertmanager log:\n${am.log()}`)
        },
      )
      expect(smtp.lines.some((l) => /^AUTH/i.test(l))).toBe(false)
      expect(smtp.logins).toEqual([])
    } finally {
      await am.close()
      await smtp.close()
    }
  }, 120_000)
})
