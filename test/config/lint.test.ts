/**
 * Schema and lint: each mistake of the reference runbook produces its finding with file:line, the example passes,
 * and the CLI exits 2 for each.
 */
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, lintInventory, parseInventory, renderInventoryYaml, type LintReport} from '../../src/lib/config/index.js'
import {isObsctlError} from '../../src/lib/errors.js'
import {exampleInventory} from '../support/inventory.js'
import {checkRepository, formatFinding} from '../support/upstream/index.js'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {obsctl, requireBuild, tmpDir} from '../cli/helpers.js'

const EXAMPLE = renderInventoryYaml(EXAMPLE_ANSWERS)
const FILE = '/lab/obsctl.yaml'

/** 1-based line of the first line containing `needle` in `text`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle))
  if (i < 0) throw new Error(`not in text: ${needle}`)
  return i + 1
}

/** One duplicate finding `id`, an error at `second`'s line naming it and the entry it repeats (`also`). */
function expectOneDuplicate(text: string, id: string, at: string, second: string, also: string, first: string): void {
  const found = lint(text).findings.filter((x) => x.id === id)
  expect(found, `${first} / ${second}`).toEqual([
    expect.objectContaining({
      severity: 'error',
      path: at,
      location: expect.stringMatching(new RegExp(`^${FILE}:${lineOf(text, second)}:`)),
      message: expect.stringContaining(`(also ${also})`),
    }),
  ])
  expect(found[0]!.message).toContain(second)
}

/** A text edit, only for what a field edit cannot make (broken YAML, a field removed, nodes inserted in place). */
function textEdit(from: string, to: string, text = EXAMPLE): string {
  if (!text.includes(from)) throw new Error(`example has no ${JSON.stringify(from)}`)
  return text.replace(from, to)
}

function lint(text: string, allowOvercommit = false): LintReport {
  return lintInventory(parseInventory(text, FILE), {allowOvercommit})
}

function loadProblems(text: string): {path: string; location: string; message: string}[] {
  try {
    parseInventory(text, FILE)
  } catch (e) {
    if (!isObsctlError(e)) throw e
    expect(e.exitCode).toBe(2)
    return (e.details as {problems: {path: string; location: string; message: string}[]}).problems
  }
  throw new Error('expected the inventory to be rejected')
}

// the reference runbook's mistakes, each as an edit of the example, with the line the finding must name
const CASES = {
  badYaml: () => {
    const text = textEdit('profile: lab', 'profile: [lab')
    return {text, kind: 'load' as const, path: '(yaml)', line: undefined}
  },
  unknownField: () => {
    const text = exampleInventory({colour: 'blue'})
    return {text, kind: 'load' as const, path: 'colour', line: lineOf(text, 'colour: blue'), message: 'unknown field "colour"'}
  },
  duplicateNode: () => {
    const text = exampleInventory({'clusters.cluster-02.nodes[0].host': '192.168.101.194'})
    return {
      text,
      kind: 'lint' as const,
      id: 'unique-node address',
      path: 'clusters[1].nodes[0].host',
      line: lineOf(text, 'apiServer: https://192.168.101.196') + 3,
    }
  },
  sixHourResolution: () => {
    const text = exampleInventory({'retention.thanos.6h': '90d'})
    return {text, kind: 'lint' as const, id: 'thanos-resolution', path: 'retention.thanos.6h', line: lineOf(text, '6h: 90d')}
  },
  rawTwoHours: () => {
    const text = exampleInventory({'retention.thanos.raw': '2h'})
    return {text, kind: 'lint' as const, id: 'thanos-raw-retention', path: 'retention.thanos.raw', line: lineOf(text, 'raw: 2h')}
  },
  prometheusTwoHours: () => {
    const text = exampleInventory({'retention.prometheus': '2h'})
    return {text, kind: 'lint' as const, id: 'prometheus-retention', path: 'retention.prometheus', line: lineOf(text, 'prometheus: 2h')}
  },
  twoCentrals: () => {
    const text = textEdit(
      '  - name: cluster-02\n    id: "02"\n    role: edge\n    # remote-scrape: a Prometheus of its own on central scrapes this cluster through its API server\n    # agent: a Prometheus Agent (~200Mi) here remote-writes to Thanos Receive on central\n    metrics: agent\n',
      '  - name: cluster-02\n    id: "02"\n    role: central\n',
    )
    return {text, kind: 'lint' as const, id: 'central-count', path: 'clusters[1].role', line: lineOf(text, 'apiServer: https://192.168.101.196') - 1}
  },
  snapshotBucketExpiry: () => {
    const text = exampleInventory({'s3.buckets.snapshots.expireAfter': '180d'})
    return {text, kind: 'lint' as const, id: 'snapshot-expiry', path: 's3.buckets.snapshots.expireAfter', line: lineOf(text, 'expireAfter: 180d')}
  },
  opensearchDeleteAfterOneDay: () => {
    const text = exampleInventory({'retention.opensearch.deleteAfter': '1d'})
    return {text, kind: 'lint' as const, id: 'opensearch-retention', path: 'retention.opensearch.deleteAfter', line: lineOf(text, 'deleteAfter: 1d')}
  },
  overcommit: () => {
    const text = exampleInventory({profile: 'production'})
    return {text, kind: 'lint' as const, id: 'capacity', path: 'clusters[0].nodes', line: lineOf(text, '- host: 192.168.101.194')}
  },
}

describe('config: the example', () => {
  it('passes lint with the HA info, the nodes/proxy warning exactly once and the no-receiver warning (its alerting block is commented)', () => {
    const r = lint(EXAMPLE)
    expect(r.errors).toBe(0)
    expect(r.findings.map((f) => [f.severity, f.id])).toEqual([
      ['info', 'argocd-ha'],
      ['warning', 'remote-scrape-nodes-proxy'],
      ['warning', 'alerting-no-receiver'],
    ])
    const warn = r.findings[1]!
    expect(warn.message).toContain('cluster-03, cluster-04')
    expect(warn.message).toContain('nodes/proxy')
    expect(warn.fix).toContain('metrics: agent')
    expect(warn.location).toBe(`${FILE}:${lineOf(EXAMPLE, 'metrics: remote-scrape')}:14`)
    expect(r.capacity.map((c) => [c.cluster, c.cpuOk && c.memoryOk])).toEqual([
      ['cluster-01', true],
      ['cluster-02', true],
      ['cluster-03', true],
      ['cluster-04', true],
    ])
  })

  it('with three central nodes the Argo CD HA info disappears', () => {
    const node = (h: string) => `      - host: ${h}\n        roles: [worker]\n        cpu: "4"\n        memory: 16Gi\n`
    const text = textEdit('  - name: cluster-02', `${node('192.168.101.190')}${node('192.168.101.191')}  - name: cluster-02`)
    const r = lint(text)
    expect(r.errors).toBe(0)
    expect(r.findings.map((f) => f.id)).not.toContain('argocd-ha')
  })

  it('all edges on agent: no nodes/proxy warning', () => {
    const r = lint(EXAMPLE.replaceAll('metrics: remote-scrape', 'metrics: agent'))
    expect(r.findings.map((f) => f.id)).toEqual(['argocd-ha', 'alerting-no-receiver'])
  })
})

describe('config: each reference-runbook mistake is found with file:line', () => {
  it('bad YAML', () => {
    const c = CASES.badYaml()
    const p = loadProblems(c.text)
    expect(p[0]!.path).toBe('(yaml)')
    expect(p[0]!.location).toMatch(new RegExp(`^${FILE}:\\d+:\\d+$`))
    expect(Number(p[0]!.location.split(':')[1])).toBeGreaterThanOrEqual(lineOf(c.text, 'profile: [lab'))
  })

  it('unknown field', () => {
    const c = CASES.unknownField()
    const p = loadProblems(c.text)
    expect(p).toEqual([
      expect.objectContaining({
        path: 'colour',
        message: expect.stringMatching(/^unknown field "colour" \(a typo\? known here: apiVersion, kind, name, domain, .*clusters/),
        location: `${FILE}:${c.line}:1`,
      }),
    ])
  })

  for (const name of [
    'duplicateNode',
    'sixHourResolution',
    'rawTwoHours',
    'prometheusTwoHours',
    'twoCentrals',
    'snapshotBucketExpiry',
    'opensearchDeleteAfterOneDay',
    'overcommit',
  ] as const) {
    it(name, () => {
      const c = CASES[name]()
      const r = lint(c.text)
      const f = r.findings.find((x) => x.id === c.id && x.path === c.path)
      expect(f, JSON.stringify(r.findings, null, 1)).toBeDefined()
      expect(f!.severity).toBe('error')
      expect(f!.location).toMatch(new RegExp(`^${FILE}:${c.line}:\\d+$`))
      expect(f!.fix.length).toBeGreaterThan(5)
    })
  }

  it('two nodes at one address are found however the address is spelt: a name in another case, an IPv6 literal in another form', () => {
    for (const [first, second] of [
      ['node1.lab', 'Node1.LAB'],
      ['fd00::1', 'FD00:0::1'],
      ['192.168.101.199', '::ffff:192.168.101.199'],
    ]) {
      const text = exampleInventory({
        'clusters.cluster-01.nodes[0].host': first,
        'clusters.cluster-01.nodes[0].name': 'central-1',
        'clusters.cluster-02.nodes[0].host': second,
        'clusters.cluster-02.nodes[0].name': 'edge-1',
      })
      expectOneDuplicate(text, 'unique-node address', 'clusters[1].nodes[0].host', second, 'clusters[0].nodes[0] (cluster-01)', first)
    }
    // the same host on another SSH port is another machine (a forwarded port): not a duplicate
    const ports = exampleInventory({
      'clusters.cluster-01.nodes[0].host': 'node1.lab',
      'clusters.cluster-02.nodes[0].host': 'NODE1.lab',
      'clusters.cluster-02.nodes[0].port': 2222,
    })
    expect(lint(ports).findings.map((x) => x.id)).not.toContain('unique-node address')
  })

  it('two clusters at one API server are found however its URL is spelt: the host in another case, an IPv6 literal in another form, the port spelt two ways', () => {
    for (const [first, second] of [
      ['https://api.lab:6443', 'https://API.Lab:6443'],
      ['https://[fd00::1]:6443', 'https://[FD00:0::1]:6443'],
      ['https://api.lab:443', 'https://api.lab:0443/'],
    ]) {
      const text = exampleInventory({'clusters.cluster-01.apiServer': first, 'clusters.cluster-02.apiServer': second})
      expectOneDuplicate(text, 'unique-API server', 'clusters[1].apiServer', second, 'clusters[0] (cluster-01)', first)
    }
    // another port is another API server
    const ports = exampleInventory({'clusters.cluster-01.apiServer': 'https://api.lab:6443', 'clusters.cluster-02.apiServer': 'https://API.lab:7443'})
    expect(lint(ports).findings.map((x) => x.id)).not.toContain('unique-API server')
  })

  it('Thanos messages explain the compactor rule and the 2h confusion', () => {
    const r = lint(CASES.rawTwoHours().text)
    expect(r.findings.find((f) => f.id === 'thanos-raw-retention')!.message).toMatch(/40h.*compactor|compactor.*40h/)
    expect(lint(CASES.sixHourResolution().text).findings.find((f) => f.id === 'thanos-resolution')!.message).toContain('raw, 5m and 1h')
  })

  it('an expiry on the snapshots bucket is refused with the reason (incremental snapshots share files) and the fix', () => {
    const f = lint(CASES.snapshotBucketExpiry().text).findings.find((x) => x.id === 'snapshot-expiry')!
    expect(f.message).toMatch(/incremental and share segment files/)
    expect(f.message).toContain('snapshot management policy')
    expect(f.fix).toContain('remove s3.buckets.snapshots.expireAfter')
    // an expiry on another bucket is that bucket's business
    expect(lint(exampleInventory({'s3.buckets.backups.expireAfter': '180d'})).errors).toBe(0)
  })

  it('retention.opensearch.snapshotAfter of older inventories still loads, with a warning that it is no longer used', () => {
    const text = exampleInventory({'retention.opensearch.snapshotAfter': '14d'})
    const r = lint(text)
    expect(r.errors).toBe(0)
    const f = r.findings.find((x) => x.id === 'opensearch-snapshot-after')!
    expect(f).toMatchObject({severity: 'warning', path: 'retention.opensearch.snapshotAfter', fix: 'remove retention.opensearch.snapshotAfter'})
    expect(f.location).toBe(`${FILE}:${lineOf(text, 'snapshotAfter: 14d')}:20`)
  })

  it('an inventory written with the old Fluent Bit default 2.2.0 gets a warning and the fix', () => {
    const text = exampleInventory({'versions.fluentBit': '2.2.0'})
    const f = lint(text).findings.find((x) => x.id === 'fluent-bit-version')!
    expect(f).toMatchObject({
      severity: 'warning',
      path: 'versions.fluentBit',
      fix: 'set versions.fluentBit to 4.0.1 (the default of the fluent-operator 3.4.2 chart)',
    })
    expect(f.location).toMatch(new RegExp(`^${FILE}:${lineOf(text, 'fluentBit: 2.2.0')}:`))
    expect(lint(EXAMPLE).findings.map((x) => x.id)).not.toContain('fluent-bit-version')
  })

  it('S3 over plain http is a warning (signed requests, but the access key id and the data in cleartext), never an error', () => {
    const text = exampleInventory({'s3.endpoint': 'http://s3.minio.miribit.lab:9000'})
    const r = lint(text)
    expect(r.errors).toBe(0)
    const f = r.findings.find((x) => x.id === 's3-plain-http')!
    expect(f).toMatchObject({severity: 'warning', path: 's3.endpoint', fix: 'use the https:// endpoint (s3.caFile for a private CA)'})
    expect(f.message).toMatch(/^S3 over plain http: the secret key is never sent \(requests are signed\), but the access key id and every object/)
    expect(f.location).toMatch(new RegExp(`^${FILE}:${lineOf(text, 'endpoint: http://s3.minio')}:`))
    expect(lint(EXAMPLE).findings.map((x) => x.id)).not.toContain('s3-plain-http')
  })

  it('a service that gets credentials at an http:// endpoint is a schema error with its file:line; the others may keep http', () => {
    const text = exampleInventory({'endpoints.argocd': 'http://argocd.miribit.lab', 'endpoints.thanos-query': 'http://tq.miribit.lab'})
    const line = lineOf(text, 'argocd: http://')
    const column = text.split('\n')[line - 1]!.indexOf('http://') + 1
    expect(loadProblems(text)).toEqual([
      expect.objectContaining({
        path: 'endpoints.argocd',
        location: `${FILE}:${line}:${column}`,
        message: expect.stringMatching(/^plain http is refused for argocd: obsctl sends it Argo CD's admin password .* use its https:\/\/ URL/),
      }),
    ])
  })

  it('production profile on 4-core/16GB overcommits every cluster it does not fit; --allow-overcommit makes it a warning', () => {
    const text = CASES.overcommit().text
    const r = lint(text)
    const central = r.capacity.find((c) => c.cluster === 'cluster-01')!
    expect(central.cpuOk && central.memoryOk).toBe(false)
    expect(central.requestedCpuMillis).toBeGreaterThan(central.declaredCpuMillis)
    const relaxed = lint(text, true)
    expect(relaxed.errors).toBe(0)
    expect(relaxed.findings.filter((f) => f.id === 'capacity').every((f) => f.severity === 'warning')).toBe(true)
  })
})

describe('config: the Ingress hosts the domain makes', () => {
  /** a domain of `n` characters: labels of 63, the last shorter */
  const domainOf = (n: number) => {
    const labels: string[] = []
    for (let left = n; left > 0; left -= 64) labels.push('a'.repeat(Math.min(63, left)))
    return labels.join('.').slice(0, n).replace(/\.$/, 'b')
  }
  const withDomain = (d: string) => textEdit('domain: miribit.lab ', `domain: ${d} `)
  it('over 253 characters (opensearch-dashboards.k8s-cluster-01.<domain>): an error at domain, naming the host and the longest domain that fits', () => {
    const fits = domainOf(216)
    expect(fits).toHaveLength(216)
    expect(lint(withDomain(fits)).findings.filter((f) => f.id === 'ingress-host-length')).toEqual([])
    const text = withDomain(domainOf(217))
    const found = lint(text).findings.filter((f) => f.id === 'ingress-host-length')
    expect(found).toEqual([
      expect.objectContaining({
        severity: 'error',
        path: 'domain',
        location: `${FILE}:${lineOf(text, 'domain: ')}:9`,
        message: `the Ingress host opensearch-dashboards.k8s-cluster-01.${domainOf(217)} would be 254 characters; Kubernetes takes at most 253 (a DNS subdomain), so that Application would never sync`,
        fix: 'a domain of at most 216 characters, or endpoints.opensearch-dashboards naming a shorter host',
      }),
    ])
  })

  it('where the line is, Kubernetes draws it: rendered, the Ingresses pass the upstream rule at 216 and fail IsDNS1123Subdomain at 217', () => {
    const ingressFindings = (n: number) =>
      checkRepository(renderFiles(parseInventory(withDomain(domainOf(n)), FILE).platform))
        .findings.map(formatFinding)
        .filter((f) => /\bIngress\b|ingress/.test(f))
    expect(ingressFindings(216)).toEqual([])
    const over = ingressFindings(217)
    expect(over.length).toBeGreaterThan(0)
    expect(over.join('\n')).toContain(`"opensearch-dashboards.k8s-cluster-01.${domainOf(217)}" is longer than 253 characters (a DNS-1123 subdomain)`)
  })
})

describe('config: CLI exit codes and output', () => {
  let dir: string
  beforeAll(async () => {
    requireBuild()
    dir = tmpDir('obsctl-config-')
  })

  it('config validate passes on the example (exit 0) and prints the capacity table', async () => {
    const f = path.join(dir, 'ok.yaml')
    writeFileSync(f, EXAMPLE)
    const r = await obsctl(['config', 'validate', '-c', f])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('Capacity')
    expect(r.stdout).toMatch(/cluster-01\s+central/)
    expect(r.stdout).toContain(`✔ ${f} is valid (2 warning(s))`)
  })

  for (const [name, mk] of Object.entries(CASES)) {
    it(`exit 2 with file:line for ${name}`, async () => {
      const c = mk()
      const f = path.join(dir, `${name}.yaml`)
      writeFileSync(f, c.text)
      const human = await obsctl(['config', 'validate', '-c', f])
      expect(human.status).toBe(2)
      const text = human.stdout + human.stderr
      expect(text).toMatch(new RegExp(`${f.replaceAll('.', '\\.')}:${c.line ?? '\\d+'}:\\d+`))
      const json = await obsctl(['config', 'validate', '-c', f, '--json'])
      expect(json.status).toBe(2)
      const out = JSON.parse(json.stdout)
      if (c.kind === 'load') expect(out.error.details.problems.some((p: {location: string}) => p.location.startsWith(`${f}:`))).toBe(true)
      else
        expect(
          out.findings.some(
            (x: {id: string; path: string; location: string}) => x.id === c.id && x.path === c.path && x.location.startsWith(`${f}:${c.line}:`),
          ),
        ).toBe(true)
    })
  }

  it('config schema prints a valid JSON Schema that accepts the example and rejects unknown fields', async () => {
    const r = await obsctl(['config', 'schema'])
    expect(r.status).toBe(0)
    const schema = JSON.parse(r.stdout)
    // draft-07, the draft yaml-language-server supports: ajv's default class
    const {Ajv} = (await import('ajv')) as unknown as {
      Ajv: new (o: object) => {compile(s: object): ((d: unknown) => boolean) & {errors?: unknown[]}; validateSchema(s: object): boolean}
    }
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#')
    const ajv = new Ajv({strict: false, allErrors: true})
    expect(ajv.validateSchema(schema)).toBe(true)
    const validate = ajv.compile(schema)
    const {parse} = await import('yaml')
    expect(validate(parse(EXAMPLE))).toBe(true)
    expect(validate({...parse(EXAMPLE), colour: 'blue'})).toBe(false)
  })
})
