/**
 * obsctl diagnose against Kubernetes API test servers (cluster-01 central, cluster-02/03 edges,
 * cluster-04 whose API server does not answer): the archive is unpacked with the real tar, its
 * contents asserted, and no secret value (env vars the inventory names, Secrets obsctl manages, Argo CD's
 * cluster Secret, the kubeconfig's tokens, token patterns in logs) may appear anywhere in it.
 * The pod log endpoint of the test server follows core/v1 GET pods/{name}/log (PodLogOptions container,
 * tailLines; text/plain; 400 without container for multi-container pods), as documented in the
 * Kubernetes API reference (checked with the search tool).
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import YAML from 'yaml'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import type {LoadedInventory} from '../../src/lib/config/load.js'
import {SERVICE_KEYS, isCredentialService} from '../../src/lib/platform/catalogue.js'
import {diagnose} from '../../src/lib/diagnose/collect.js'
import {ObsctlError} from '../../src/lib/errors.js'
import {writeInventory} from '../s3/harness.js'
import {DEAD, DEAD_TLS, endpointsYaml} from '../validate/harness.js'
import {seedPod} from '../validate/deployed.js'
import {obsctlAsync, requireBuild} from '../cli/helpers.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {APPLICATION_CRD} from '../support/kube/argocd-controllers.js'
import {waitFor} from '../support/wait.js'

const SECRETS = {
  s3Access: 'AKIA-diag-access-4711',
  s3Secret: 'diag-S3-secret-key-Zq81x',
  osAdmin: 'Diag-OS-admin-pw-93!',
  fluentbit: 'Diag-Fluentbit-pw-52',
  grafana: 'Diag-Grafana-pw-17',
  osUserPassword: 'Diag-OS-cli-pw-64',
  // values only the clusters hold
  grafanaSecret: 'Graf-Secret-Value-777x',
  edgeBearer: 'edge-argocd-bearer-0f9e8d7c6b5a',
  // only in a log line, as basic auth in a URL
  urlPassword: 'hunter2pass-in-url',
  // only in a task log: kubeadm's join command (cmd/kubeadm/app/cmd/util/join.go joinCommandTemplate), as kubeadm init
  // prints it without --skip-token-print / --skip-certificate-key-print
  joinToken: 'q7diag.k8sjointoken0042',
  certificateKey: 'd1a9'.repeat(16),
  // only in kube-system's bootstrap-token Secret and, as <id>.<secret>, in a pod log line no pattern knows
  bootstrapSecret: 'b00tstrapsecret7',
  // only in the last cluster's Secret (cluster-03), and in a log line of the second one's (cluster-02) no pattern knows:
  // scrubbed only if every cluster's values are known before any cluster's entries are written
  lastClusterValue: 'Zeta-only-on-cluster-03-9q',
}
const CA_HASH = `sha256:${'c'.repeat(64)}`
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJpc3MiOiJrdWJlcm5ldGVzIiwic3ViIjoic3lzdGVtOnNhIn0.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLWp3dA'

/** a Fluent Bit pod in logging, Running but not Ready, restarted `restarts` times (its status as the kubelet writes it) */
function crashingFluentBit(name: string, restarts: number) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, namespace: 'logging', labels: {app: 'fluent-bit'}},
    spec: {containers: [{name: 'fluent-bit', image: 'x'}]},
    status: {
      phase: 'Running',
      conditions: [{type: 'Ready', status: 'False', reason: 'ContainersNotReady'}],
      containerStatuses: [{name: 'fluent-bit', ready: false, restartCount: restarts}],
    },
  }
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const full = path.join(dir, f)
    return statSync(full).isDirectory() ? files(full) : [full]
  })
}

describe('obsctl diagnose', () => {
  let servers: KubeServer[]
  let dir: string
  let inv: LoadedInventory
  let kubeconfig: string
  let tokens: string[]

  beforeAll(async () => {
    vi.stubEnv('OBSCTL_S3_ACCESS_KEY', SECRETS.s3Access)
    vi.stubEnv('OBSCTL_S3_SECRET_KEY', SECRETS.s3Secret)
    vi.stubEnv('OBSCTL_OPENSEARCH_ADMIN_PASSWORD', SECRETS.osAdmin)
    vi.stubEnv('OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD', SECRETS.fluentbit)
    vi.stubEnv('OBSCTL_GRAFANA_ADMIN_PASSWORD', SECRETS.grafana)
    vi.stubEnv('OBSCTL_OPENSEARCH_USER', 'admin')
    vi.stubEnv('OBSCTL_OPENSEARCH_PASSWORD', SECRETS.osUserPassword)
    dir = mkdtempSync(path.join(tmpdir(), 'obsctl-diagnose-'))
    servers = await startKubeServers(['cluster-01', 'cluster-02', 'cluster-03'])
    // every service and the S3 endpoint on a loopback port nothing listens on; cluster-04's API server too
    const endpoints = Object.fromEntries(SERVICE_KEYS.map((k) => [k, isCredentialService(k) ? DEAD_TLS : DEAD]))
    ;({inv} = writeInventory(dir, DEAD, {
      ...endpointsYaml(endpoints),
      ...Object.fromEntries(servers.map((s, i) => [`clusters.cluster-0${i + 1}.apiServer`, s.url])),
      'clusters.cluster-04.apiServer': 'https://127.0.0.1:9',
    }))
    kubeconfig = writeFleetKubeconfig(path.join(dir, 'kubeconfig'), servers)
    const kc = YAML.parse(readFileSync(kubeconfig, 'utf8'))
    tokens = kc.users.map((u: {user: {token: string}}) => u.user.token)
    expect(tokens.every((t: string) => typeof t === 'string' && t.length > 8)).toBe(true)
    // cluster-04: a context whose API server does not answer (connection refused at once)
    kc.clusters.push({name: 'cluster-04', cluster: {...kc.clusters[0].cluster, server: 'https://127.0.0.1:9'}})
    kc.users.push({name: 'cluster-04-user', user: {token: 'cluster-04-token-not-used-1234'}})
    kc.contexts.push({name: 'cluster-04-context', context: {cluster: 'cluster-04', user: 'cluster-04-user'}})
    writeFileSync(kubeconfig, YAML.stringify(kc), {mode: 0o600})
    tokens.push('cluster-04-token-not-used-1234')

    const [central, edge, last] = servers as [KubeServer, KubeServer, KubeServer]
    central.addReadyNode('k8s-cluster-01-master-01')
    edge.addReadyNode('k8s-cluster-02-worker-01')
    central.seed(
      {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'monitoring'}},
      {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'argocd'}},
      {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'logging'}},
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {name: 'grafana-admin-credentials', namespace: 'monitoring', labels: {'app.kubernetes.io/managed-by': 'obsctl'}},
        type: 'Opaque',
        data: {'admin-user': Buffer.from('admin').toString('base64'), 'admin-password': Buffer.from(SECRETS.grafanaSecret).toString('base64')},
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {name: 'cluster-edge', namespace: 'argocd', labels: {'argocd.argoproj.io/secret-type': 'cluster'}},
        type: 'Opaque',
        data: {
          name: Buffer.from('cluster-02').toString('base64'),
          config: Buffer.from(JSON.stringify({bearerToken: SECRETS.edgeBearer, tlsClientConfig: {insecure: false}})).toString('base64'),
        },
      },
      // kubeadm's bootstrap token (kube-system bootstrap-token-<id>; the keys kubeadm's bootstraptoken API writes)
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {name: 'bootstrap-token-q7boot', namespace: 'kube-system'},
        type: 'bootstrap.kubernetes.io/token',
        data: Object.fromEntries(
          Object.entries({
            'token-id': 'q7boot',
            'token-secret': SECRETS.bootstrapSecret,
            'usage-bootstrap-authentication': 'true',
            'usage-bootstrap-signing': 'true',
            'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
          }).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
      },
      APPLICATION_CRD,
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: {name: 'prometheuses.monitoring.coreos.com'},
        spec: {
          group: 'monitoring.coreos.com',
          scope: 'Namespaced',
          names: {kind: 'Prometheus', plural: 'prometheuses', singular: 'prometheus', listKind: 'PrometheusList'},
          versions: [{name: 'v1', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}],
        },
      },
    )
    await new Promise((r) => setTimeout(r, 50))
    central.seed(
      // Argo CD's condition quotes the edge's token (it happens: an error message with a credential in it)
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: {name: 'kube-prometheus-stack-cluster-02', namespace: 'argocd'},
        spec: {project: 'default', source: {repoURL: 'https://git.example.test/gitops.git', path: 'deploy'}, destination: {server: servers[1]!.url}},
        status: {
          sync: {status: 'Unknown', revision: 'abc'},
          health: {status: 'Missing'},
          conditions: [{type: 'ComparisonError', message: `the server has asked for the client to provide credentials (token ${SECRETS.edgeBearer})`}],
        },
      },
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'Prometheus',
        metadata: {name: 'kube-prometheus-stack-prometheus', namespace: 'monitoring'},
        spec: {replicas: 2},
        status: {availableReplicas: 1, conditions: [{type: 'Available', status: 'Degraded'}]},
      },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {name: 'recent', namespace: 'logging'},
        involvedObject: {kind: 'Pod', name: 'fluent-bit-x1'},
        reason: 'BackOff',
        message: 'Back-off restarting failed container fluent-bit',
        type: 'Warning',
        lastTimestamp: new Date(Date.now() - 60_000).toISOString(),
        count: 7,
      },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {name: 'old', namespace: 'logging'},
        involvedObject: {kind: 'Pod', name: 'fluent-bit-x0'},
        reason: 'Pulled',
        message: 'an event from yesterday',
        type: 'Normal',
        lastTimestamp: new Date(Date.now() - 86_400_000).toISOString(),
      },
    )
    seedPod(central, crashingFluentBit('fluent-bit-x1', 7))
    seedPod(central, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'grafana-ok', namespace: 'monitoring', labels: {app: 'grafana'}},
      spec: {containers: [{name: 'main', image: 'x'}]},
      status: {phase: 'Running', conditions: [{type: 'Ready', status: 'True'}]},
    })
    central.setPodLog(
      'logging',
      'fluent-bit-x1',
      'fluent-bit',
      [
        ...Array.from({length: 150}, (_, i) => `[info] line ${i}`),
        `[error] [output:es:es.0] HTTP status=401 URI=/_bulk user admin password=${SECRETS.osAdmin}`,
        `[error] s3 upload to https://minio:${SECRETS.urlPassword}@s3.example.test/bucket failed`,
        `[error] Authorization: Bearer ${JWT}`,
        `[error] secret key ${SECRETS.s3Secret} rejected`,
        `[warn] node joined with q7boot.${SECRETS.bootstrapSecret}, ready true`,
        '[error] the last line',
      ].join('\n'),
    )

    // cluster-02: a pod whose log is larger than a log entry holds (1 MiB: 20 lines of 64 KiB in the tail), its last line quoting a value
    // only cluster-03's Secret holds
    edge.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'logging'}})
    seedPod(edge, crashingFluentBit('fluent-bit-e1', 3))
    edge.setPodLog(
      'logging',
      'fluent-bit-e1',
      'fluent-bit',
      [
        ...Array.from({length: 99}, (_, i) => `[info] big line ${i} ${'x'.repeat(64 * 1024)}`),
        `[error] upstream said ${SECRETS.lastClusterValue}: the last line`,
      ].join('\n'),
    )
    last.seed(
      {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'logging'}},
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {name: 'fluent-bit-opensearch', namespace: 'logging', labels: {'app.kubernetes.io/managed-by': 'obsctl'}},
        type: 'Opaque',
        data: {password: Buffer.from(SECRETS.lastClusterValue).toString('base64')},
      },
    )

    // a journal and the last run's task log, as the engine writes them (.obsctl/state.json, .obsctl/logs/<run>/<phase>/<target>.log)
    const state = path.join(dir, '.obsctl')
    mkdirSync(path.join(state, 'logs', '20261202T000000Z-aaaa', 'secrets'), {recursive: true, mode: 0o700})
    mkdirSync(path.join(state, 'logs', '20261201T000000Z-zzzz', 'render'), {recursive: true, mode: 0o700})
    writeFileSync(path.join(state, 'state.json'), JSON.stringify({version: 1, tasks: {'secrets/cluster-01': {status: 'failed', error: {message: 'boom'}}}}))
    writeFileSync(
      path.join(state, 'logs', '20261202T000000Z-aaaa', 'secrets', 'cluster-01.log'),
      [
        'applied',
        `S3 key was ${SECRETS.s3Access}`,
        `  kubeadm join 10.0.0.1:6443 --token ${SECRETS.joinToken} \\`,
        `    --discovery-token-ca-cert-hash ${CA_HASH} \\`,
        `    --control-plane --certificate-key ${SECRETS.certificateKey}`,
        '',
      ].join('\n'),
    )
    writeFileSync(path.join(state, 'logs', '20261201T000000Z-zzzz', 'render', 'platform.log'), 'an older run\n')
  })
  afterAll(async () => {
    vi.unstubAllEnvs()
    await stopKubeServers(servers)
    rmSync(dir, {recursive: true, force: true})
  })

  it('writes one archive with validate/status, the journal and per cluster what support needs; no secret value is in it; an unreachable cluster is recorded, not fatal', async () => {
    const out = path.join(dir, 'diag.tar.gz')
    const r = await diagnose(inv, {kubeconfig, out, since: '1h', tailLines: 20, requestTimeoutMs: 5000})
    expect(r.file).toBe(out)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const x = path.join(dir, 'unpacked')
    mkdirSync(x)
    execFileSync('tar', ['-xzf', out, '-C', x])
    const [root] = readdirSync(x)
    const at = (p: string) => readFileSync(path.join(x, root!, p), 'utf8')
    const all = files(x)

    // no secret value anywhere (plain or base64), no token, no JWT
    const forbidden = [...Object.values(SECRETS), ...tokens, JWT]
    for (const f of all) {
      const text = readFileSync(f, 'utf8')
      for (const s of forbidden) {
        expect(text.includes(s), `${path.relative(x, f)} contains ${s.slice(0, 6)}…`).toBe(false)
        expect(text.includes(Buffer.from(s).toString('base64')), `${path.relative(x, f)} contains base64 of ${s.slice(0, 6)}…`).toBe(false)
      }
    }
    // and no Secret object was collected
    expect(all.some((f) => /secret/i.test(path.basename(f)))).toBe(false)

    // validate and status JSON (the services are down: they say so)
    const verdict = JSON.parse(at('validate.json'))
    expect(verdict.ok).toBe(false)
    expect(Array.isArray(verdict.checks ?? verdict.outcomes ?? verdict.components)).toBe(true)
    expect(JSON.parse(at('status.json'))).toBeTypeOf('object')
    // the journal and the newest run's log (scrubbed), not the older run's
    expect(JSON.parse(at('obsctl/state.json')).tasks['secrets/cluster-01'].status).toBe('failed')
    const taskLog = at('obsctl/logs/20261202T000000Z-aaaa/secrets/cluster-01.log')
    expect(taskLog).toContain('S3 key was [REDACTED]')
    expect(taskLog).toContain('kubeadm join 10.0.0.1:6443 --token [REDACTED] \\')
    expect(taskLog).toContain('--control-plane --certificate-key [REDACTED]')
    // the CA's public key pin is no secret
    expect(taskLog).toContain(`--discovery-token-ca-cert-hash ${CA_HASH}`)
    expect(all.some((f) => f.includes('20261201T000000Z-zzzz'))).toBe(false)

    // central: nodes, recent events only, the pod that is not Ready with its last lines, CR status, Argo CD conditions
    expect(JSON.parse(at('clusters/cluster-01/nodes.json')).nodes.map((n: {name: string}) => n.name)).toEqual(['k8s-cluster-01-master-01'])
    const events = JSON.parse(at('clusters/cluster-01/events.json')).events
    expect(events.map((e: {reason: string}) => e.reason)).toEqual(['BackOff'])
    const pods = JSON.parse(at('clusters/cluster-01/pods-not-ready.json'))
    expect(pods.pods.map((p: {name: string}) => p.name)).toEqual(['fluent-bit-x1'])
    expect(pods.pods[0].containers[0].restartCount).toBe(7)
    const log = at('clusters/cluster-01/logs/logging/fluent-bit-x1/fluent-bit.log').trimEnd().split('\n')
    expect(log).toHaveLength(20)
    expect(log.at(-1)).toBe('[error] the last line')
    expect(log.join('\n')).toContain('password=[REDACTED]')
    expect(log.join('\n')).toContain('https://minio:[REDACTED]@s3.example.test/bucket')
    expect(log.join('\n')).toContain('Bearer [REDACTED]')
    expect(log.join('\n')).toContain('secret key [REDACTED] rejected')
    // the bootstrap token's secret half, known from its Secret; its id and the Secret's flags ('true') stay
    expect(log.join('\n')).toContain('[warn] node joined with q7boot.[REDACTED], ready true')
    const crs = JSON.parse(at('clusters/cluster-01/custom-resources.json'))
    expect(crs['Prometheus.monitoring.coreos.com/v1'][0].status.availableReplicas).toBe(1)
    expect(crs['OpenSearchCluster.opensearch.opster.io/v1']).toEqual({notInstalled: true})
    const argocd = JSON.parse(at('clusters/cluster-01/argocd.json'))
    expect(argocd.applications[0]).toMatchObject({name: 'kube-prometheus-stack-cluster-02', sync: 'Unknown', health: 'Missing'})
    expect(argocd.applications[0].conditions[0].message).toContain('token [REDACTED]')
    // a log larger than an entry holds keeps its last 1 MiB, from a line's start, and says what it left out; a value only
    // the last cluster's Secret holds is scrubbed from the second cluster's log
    const big = at('clusters/cluster-02/logs/logging/fluent-bit-e1/fluent-bit.log')
    const bigLines = big.trimEnd().split('\n')
    expect(Buffer.byteLength(big)).toBeLessThanOrEqual(1024 * 1024 + 200)
    expect(Buffer.byteLength(big)).toBeGreaterThan(1024 * 1024 - 65 * 1024)
    expect(bigLines[0]).toMatch(/^\[obsctl: the first \d+ bytes of this log are left out: each log keeps its last 1 MiB\]$/)
    expect(bigLines[1]).toMatch(/^\[info\] big line \d+ x{65536}$/)
    expect(bigLines.at(-1)).toBe('[error] upstream said [REDACTED]: the last line')
    // an edge: collected too, no argocd.json there
    expect(JSON.parse(at('clusters/cluster-02/nodes.json')).nodes).toHaveLength(1)
    expect(all.some((f) => f.endsWith('cluster-02/argocd.json'))).toBe(false)

    // cluster-04 does not answer: recorded in the manifest and its entry, the rest is there
    const manifest = JSON.parse(at('manifest.json'))
    expect(manifest.clusters.find((c: {name: string}) => c.name === 'cluster-04')).toMatchObject({reachable: false})
    expect(
      manifest.problems.some((p: {item: string; message: string}) => p.item.startsWith('cluster-04') && /cannot reach|127\.0\.0\.1:9/.test(p.message)),
    ).toBe(true)
    expect(JSON.parse(at('clusters/cluster-04/nodes.json')).error).toMatch(/cannot reach/)
    expect(r.clusters.map((c) => [c.name, c.reachable])).toEqual([
      ['cluster-01', true],
      ['cluster-02', true],
      ['cluster-03', true],
      ['cluster-04', false],
    ])
  }, 240_000)

  it("collects the clusters at once (a bounded number), and writes what each found in the inventory's order", async () => {
    // one after another, a fleet's collection took every cluster's few dozen requests in a row: here the second cluster
    // asked for nothing until the first's events were answered
    const holds = servers.map((s) => s.hold('GET', '/api/v1/events'))
    const held = () => holds.reduce((n, h) => n + h.held(), 0)
    const run = diagnose(inv, {kubeconfig, out: path.join(dir, 'at-once.tar.gz'), since: '1h', requestTimeoutMs: 120_000})
    try {
      await waitFor(() => held() === servers.length, 120_000, 'every reachable cluster asking for its events at once')
    } finally {
      for (const h of holds) h.release()
    }
    const r = await run
    expect(r.clusters.map((c) => [c.name, c.reachable])).toEqual([
      ['cluster-01', true],
      ['cluster-02', true],
      ['cluster-03', true],
      ['cluster-04', false],
    ])
    const clusterDirs = r.entries.map((e) => /\/clusters\/(cluster-\d+)\//.exec(e)?.[1]).filter((c) => c !== undefined)
    expect([...new Set(clusterDirs)]).toEqual(['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04'])
    expect(r.problems.some((p) => p.item.startsWith('cluster-04'))).toBe(true)
  }, 240_000)

  it('one cluster only; a bad --since or an unknown cluster is exit 2 and writes nothing', async () => {
    const out = path.join(dir, 'one.tar.gz')
    const r = await diagnose(inv, {kubeconfig, out, cluster: 'cluster-02', requestTimeoutMs: 5000})
    expect(r.clusters.map((c) => c.name)).toEqual(['cluster-02'])
    expect(r.entries.some((e) => e.includes('clusters/cluster-01/'))).toBe(false)
    for (const [o, code] of [
      [{since: 'soon'}, 'BAD_FLAGS'],
      [{cluster: 'cluster-99'}, 'UNKNOWN_CLUSTER'],
    ] as const) {
      const bad = path.join(dir, `bad-${code}.tar.gz`)
      const e = await diagnose(inv, {kubeconfig, out: bad, ...o}).catch((error: unknown) => error)
      expect(e).toBeInstanceOf(ObsctlError)
      expect((e as ObsctlError).exitCode).toBe(2)
      expect((e as ObsctlError).code).toBe(code)
      expect(() => statSync(bad)).toThrow()
    }
  }, 240_000)

  it('through the CLI: --json is the result object; a bad --since is exit 2 naming the flag', async () => {
    requireBuild()
    const out = path.join(dir, 'cli.tar.gz')
    const env = {KUBECONFIG: kubeconfig}
    const ok = await obsctlAsync(['diagnose', 'cluster-03', '--json', '--out', out, '--request-timeout', '5', '-c', inv.file], {env})
    expect(ok.status).toBe(0)
    const r = JSON.parse(ok.stdout)
    expect(r.file).toBe(out)
    expect(r.clusters).toEqual([{name: 'cluster-03', reachable: true, notReadyPods: 0, events: 0}])
    expect(statSync(out).size).toBeGreaterThan(0)
    const bad = await obsctlAsync(['diagnose', '--since', 'soon', '--json', '-c', inv.file], {env})
    expect(bad.status).toBe(2)
    expect(JSON.parse(bad.stdout).error.message).toContain('--since')
  }, 240_000)
})
