/**
 * The inventory's JSON Schema as editors use it: draft-07 (what yaml-language-server reads), checked with
 * ajv's draft-07 validator against the example inventory; `init` writes it to .obsctl/schema.json (folder
 * 0700) so the inventory's `$schema` line resolves; `config explain` describes fields like kubectl explain.
 */
import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {Ajv} from 'ajv'
import {parse, stringify} from 'yaml'
import {beforeAll, describe, expect, it} from 'vitest'
import {jsonSchema} from '../../src/lib/config/schema.js'
import {explainField} from '../../src/lib/config/explain.js'
import {formatPath, parseInventory, type FieldPath} from '../../src/lib/config/load.js'
import {obsctl, requireBuild, tmpDir} from '../cli/helpers.js'

let dir: string
let inv: string
beforeAll(async () => {
  requireBuild()
  dir = tmpDir('obsctl-schema-')
  inv = path.join(dir, 'obsctl.yaml')
  const r = await obsctl(['init', '--example', '-c', inv])
  expect(r.status).toBe(0)
})

describe('JSON Schema', () => {
  it('is draft-07 and validates the example inventory (ajv, draft-07), refusing a wrong type', () => {
    const schema = jsonSchema()
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#')
    const ajv = new Ajv({strict: false, allErrors: true})
    const validate = ajv.compile(schema)
    const doc = parse(readFileSync(inv, 'utf8')) as Record<string, unknown>
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true)
    const bad = {...doc, ssh: {...(doc.ssh as object), port: 'twenty-two'}}
    expect(validate(bad)).toBe(false)
    expect(validate.errors?.some((e) => e.instancePath === '/ssh/port')).toBe(true)
  })

  it('describes every field (an editor shows it on hover), each with an example or its default', () => {
    const undescribed: string[] = []
    let fields = 0
    const walk = (n: Record<string, unknown> | undefined, at: string): void => {
      if (!n || typeof n !== 'object') return
      for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        fields++
        const alts = [v, ...((v.anyOf ?? v.oneOf ?? []) as Record<string, unknown>[])]
        const d = alts.map((x) => x.description).find((x): x is string => typeof x === 'string')
        if (
          !d ||
          !(
            /e\.g\.|default/.test(d) ||
            'default' in v ||
            'enum' in v ||
            'const' in v ||
            alts.some((x) => 'default' in x || 'enum' in x || 'const' in x) ||
            [v.type].flat().includes('object') ||
            v.type === 'array' ||
            v.type === 'boolean'
          )
        )
          undescribed.push(`${at}${k}`)
        walk(v, `${at}${k}.`)
        for (const a of alts.slice(1)) walk(a, `${at}${k}.`)
      }
      if (n.items && typeof n.items === 'object') walk(n.items as Record<string, unknown>, `${at.replace(/\.$/, '')}[].`)
    }
    walk(jsonSchema(), '')
    expect(fields).toBeGreaterThan(120)
    expect(undescribed).toEqual([])
  })

  it('init writes .obsctl/schema.json (folder 0700), the file the inventory names, equal to `config schema`', async () => {
    const text = readFileSync(inv, 'utf8')
    expect(text).toContain('# yaml-language-server: $schema=./.obsctl/schema.json')
    const file = path.join(dir, '.obsctl', 'schema.json')
    expect(statSync(path.join(dir, '.obsctl')).mode & 0o777).toBe(0o700)
    const printed = await obsctl(['config', 'schema'])
    expect(printed.status).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(printed.stdout))
    // and the shell redirect of the help example now has its folder
    const redirected = await obsctl(['config', 'schema'], {cwd: dir})
    expect(redirected.status).toBe(0)
  })
})

describe('a key with nothing under it (YAML null) where a mapping goes: the JSON Schema and obsctl agree', () => {
  type Node = Record<string, unknown> & {type?: string | string[]; properties?: Record<string, Node>; items?: Node; additionalProperties?: unknown}
  const isMapping = (n: Node | undefined) => [n?.type].flat().includes('object')
  const isPlain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
  /** the paths of the mappings `data` holds (a list walked through its first item), as the schema walks them */
  function mappingPaths(n: Node, data: unknown, at: FieldPath = []): FieldPath[] {
    if (!isPlain(data)) return []
    const out: FieldPath[] = []
    for (const [k, v] of Object.entries(data)) {
      const child = n.properties?.[k] ?? (isPlain(n.additionalProperties) ? (n.additionalProperties as Node) : undefined)
      if (!child) continue
      if (isMapping(child) && isPlain(v)) out.push([...at, k], ...mappingPaths(child, v, [...at, k]))
      if (child.items && Array.isArray(v) && v.length > 0) out.push(...mappingPaths(child.items, v[0], [...at, k, 0]))
    }
    return out
  }
  const withValue = (doc: Record<string, unknown>, p: FieldPath, value: unknown) => {
    const copy = structuredClone(doc)
    let o = copy as Record<string | number, unknown>
    for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>
    o[p.at(-1)!] = value
    return copy
  }
  const obsctlTakes = (doc: Record<string, unknown>) => {
    try {
      return {ok: true as const, platform: parseInventory(stringify(doc), '/x/obsctl.yaml').platform}
    } catch (error) {
      return {ok: false as const, message: (error as Error).message}
    }
  }

  it('null is taken, as the empty mapping, exactly where the JSON Schema says object or null: where {} is taken', () => {
    const validate = new Ajv({strict: false, allErrors: true}).compile(jsonSchema())
    const doc = parse(readFileSync(inv, 'utf8')) as Record<string, unknown>
    // every kind of mapping the inventory has, present (the example leaves some out)
    Object.assign(doc.ssh as object, {proxy: {noProxy: '.lab'}})
    Object.assign(doc, {
      endpoints: {grafana: 'https://grafana.example.lab'},
      replicas: {prometheus: 1},
      backup: {volumes: {retain: 3}},
      alerting: {
        receivers: [
          {
            name: 'ops',
            email: {to: ['ops@example.lab'], from: 'am@example.lab', smarthost: 'smtp.example.lab:587'},
            slack: {webhookUrlEnv: 'OBSCTL_SLACK_WEBHOOK_URL'},
            webhook: {urlEnv: 'OBSCTL_ALERT_WEBHOOK_URL'},
            pagerduty: {routingKeyEnv: 'OBSCTL_PAGERDUTY_ROUTING_KEY'},
          },
        ],
      },
    })
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true)
    const paths = mappingPaths(jsonSchema() as Node, doc)
    expect(paths.length).toBeGreaterThan(20)
    const takesNull: string[] = []
    for (const p of paths) {
      const nulled = withValue(doc, p, null)
      const emptied = withValue(doc, p, {})
      const [byObsctl, byEditor] = [obsctlTakes(nulled), validate(nulled)]
      // the editor's schema and obsctl agree on the null, and take it where, and only where, they take {}
      expect({path: formatPath(p), obsctl: byObsctl.ok}).toEqual({path: formatPath(p), obsctl: byEditor})
      expect({path: formatPath(p), null: byEditor}).toEqual({path: formatPath(p), null: validate(emptied)})
      if (byObsctl.ok) {
        takesNull.push(formatPath(p))
        const empty = obsctlTakes(emptied)
        expect(empty.ok && byObsctl.platform).toEqual(empty.ok && empty.platform)
      } else
        expect(byObsctl.message).toMatch(
          new RegExp(`/x/obsctl\\.yaml:\\d+:\\d+: ${formatPath(p).replace(/[.[\]]/g, '\\$&')}: Invalid input: expected object, received null`),
        )
    }
    expect(takesNull).toEqual([
      'ssh',
      'ssh.proxy',
      's3.buckets',
      'versions',
      'versions.charts',
      'retention',
      'retention.thanos',
      'retention.opensearch',
      'endpoints',
      'replicas',
      'backup',
      'backup.volumes',
      'alerting',
      'alerting.receivers[0].pagerduty',
    ])
    expect(explainField('alerting')).toMatchObject({type: 'object | null', required: false})
    // an unknown field under such a mapping still names the fields it has
    expect(obsctlTakes(withValue(doc, ['ssh'], {prot: 2}))).toMatchObject({ok: false, message: expect.stringContaining('known here: user, port, ')})
  })

  it('every default the JSON Schema gives is valid by its own field’s schema', () => {
    const ajv = new Ajv({strict: false})
    let defaults = 0
    const walk = (n: unknown, at: string): void => {
      if (!isPlain(n)) return
      if ('default' in n) {
        defaults++
        const {default: value, ...rest} = n
        expect(ajv.validate(rest, value), `${at}: ${JSON.stringify(ajv.errors)}`).toBe(true)
      }
      for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, unknown>)) walk(v, `${at}.${k}`)
      walk(n.items, `${at}[]`)
      walk(n.additionalProperties, `${at}.*`)
      for (const alt of [n.anyOf, n.oneOf, n.allOf].flat()) walk(alt, at)
    }
    walk(jsonSchema(), '')
    expect(defaults).toBeGreaterThan(40)
  })
})

describe('config explain', () => {
  it('prints a field: type, default, allowed values, description', async () => {
    const r = await obsctl(['config', 'explain', 'ssh.hostKeyPolicy'])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('FIELD:    ssh.hostKeyPolicy <"accept-new" | "strict">')
    expect(r.stdout).toContain('DEFAULT:  accept-new')
    expect(r.stdout).toContain('ALLOWED:  accept-new, strict')
    expect(r.stdout).toMatch(/DESCRIPTION:\n\s+accept-new: trust a node/)
  })

  it('walks lists through their items and lists an object’s fields; --json is the same data', async () => {
    const r = await obsctl(['config', 'explain', 'clusters[].nodes', '--json'])
    expect(r.status).toBe(0)
    // the --json contract (test/cli/json-contract.test.ts counts on this run): nothing on stderr
    expect(r.stderr).toBe('')
    const e = JSON.parse(r.stdout)
    expect(e).toMatchObject({path: 'clusters.nodes', type: '[]object', required: true})
    expect(e.fields.map((f: {name: string}) => f.name)).toEqual(expect.arrayContaining(['host', 'cpu', 'memory', 'roles']))
    expect(e.fields.find((f: {name: string}) => f.name === 'host')).toMatchObject({type: 'string', required: true})
    expect(explainField('clusters.0.nodes.0.host')).toEqual(explainField('clusters.nodes.host'))
    expect(explainField('ssh.port')).toMatchObject({type: 'integer', default: 22, minimum: 1, maximum: 65535})
    expect(explainField('replicas.prometheus')).toMatchObject({type: 'integer', minimum: 0})
  })

  it('shows the upper bounds: replicas an int32 (RANGE), durations and quantities in their description', async () => {
    // Kubernetes' replicas is int32 (StatefulSetSpec, DeploymentSpec and the Prometheus CRD, checked in
    // ../shared/upstream k8s.json.gz and crds.json.gz: format int32)
    expect(explainField('replicas.prometheus')).toMatchObject({minimum: 0, maximum: 2_147_483_647})
    const r = await obsctl(['config', 'explain', 'replicas.opensearch-data'])
    expect(r.stdout).toContain('RANGE:    0 to 2147483647')
    for (const field of ['retention.prometheus', 'retention.thanos.raw', 'retention.opensearch.deleteAfter', 's3.buckets.metrics.expireAfter'])
      expect(explainField(field).description, field).toMatch(/at most 106751d/)
    expect(explainField('clusters.nodes.cpu').description).toMatch(/at most 9223372036854775/)
    expect(explainField('clusters.nodes.memory').description).toMatch(/under 8Ei/)
  })

  it('an unknown field is exit 2, naming the fields that exist', async () => {
    const r = await obsctl(['config', 'explain', 'ssh.nope'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('ssh.nope: ssh has no field nope')
    expect(r.stderr).toContain('fields of ssh: user, port, identityFile')
    expect(r.stderr).not.toContain('did you mean')
  })

  it('a typed field names the one meant, as an unknown inventory field does', () => {
    expect(() => explainField('ssh.prot')).toThrow('ssh.prot: ssh has no field prot (did you mean "port"?)')
    expect(() => explainField('clusters.nodes.hots')).toThrow('has no field hots (did you mean "host"?)')
    expect(() => explainField('git.reomte')).toThrow('git.reomte: git has no field reomte (did you mean "remote"?)')
  })
})
