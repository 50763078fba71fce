/**
 * The inventory's JSON Schema as editors use it: draft-07 (what yaml-language-server reads), checked with
 * ajv's draft-07 validator against the example inventory; `init` writes it to .obsctl/schema.json (folder
 * 0700) so the inventory's `$schema` line resolves; `config explain` describes fields like kubectl explain.
 */
import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {Ajv} from 'ajv'
import {parse} from 'yaml'
import {beforeAll, describe, expect, it} from 'vitest'
import {jsonSchema} from '../../src/lib/config/schema.js'
import {explainField} from '../../src/lib/config/explain.js'
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
            v.type === 'object' ||
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
    const e = JSON.parse(r.stdout)
    expect(e).toMatchObject({path: 'clusters.nodes', type: '[]object', required: true})
    expect(e.fields.map((f: {name: string}) => f.name)).toEqual(expect.arrayContaining(['host', 'cpu', 'memory', 'roles']))
    expect(e.fields.find((f: {name: string}) => f.name === 'host')).toMatchObject({type: 'string', required: true})
    expect(explainField('clusters.0.nodes.0.host')).toEqual(explainField('clusters.nodes.host'))
    expect(explainField('ssh.port')).toMatchObject({type: 'integer', default: 22, minimum: 1, maximum: 65535})
    expect(explainField('replicas.prometheus')).toMatchObject({type: 'integer', minimum: 0})
  })

  it('an unknown field is exit 2, naming the fields that exist', async () => {
    const r = await obsctl(['config', 'explain', 'ssh.nope'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('ssh.nope: ssh has no field nope')
    expect(r.stderr).toContain('fields of ssh: user, port, identityFile')
  })
})
