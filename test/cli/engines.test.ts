/**
 * obsctl's `engines.node` is a promise to the user (npm checks it, `obsctl doctor` prints it): every Node.js it admits
 * must be one that each installed runtime dependency admits too, or `npm ci` warns (EBADENGINE) on a Node obsctl
 * claims to support. Read from package-lock.json, as npm itself reads it.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import {afterEach, describe, expect, it} from 'vitest'
import {nodeCheck} from '../../src/lib/doctor/workstation.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as T

describe('engines', () => {
  it("every runtime dependency's engines.node admits every Node.js obsctl's engines.node admits", () => {
    const own = readJson<{engines: {node: string}}>('package.json').engines.node
    const lock = readJson<{packages: Record<string, {version?: string; dev?: boolean; engines?: {node?: string} | string[]}>}>('package-lock.json')
    const narrower: string[] = []
    let checked = 0
    for (const [where, p] of Object.entries(lock.packages)) {
      if (!where || p.dev || Array.isArray(p.engines) || !p.engines?.node) continue
      checked++
      if (!semver.subset(own, p.engines.node)) narrower.push(`${where.replace(/^.*node_modules\//, '')}@${p.version}: node ${p.engines.node}`)
    }
    expect(checked).toBeGreaterThan(20)
    expect(narrower, `obsctl says node ${own}`).toEqual([])
  })

  describe("doctor's Node.js check reads the same range", () => {
    const real = Object.getOwnPropertyDescriptor(process.versions, 'node')!
    afterEach(() => Object.defineProperty(process.versions, 'node', real))
    const check = async (version: string) => {
      Object.defineProperty(process.versions, 'node', {...real, value: version})
      return nodeCheck.run({} as never, new AbortController().signal)
    }

    it.each(['20.16.0', '20.20.2', '22.12.0'])('%s passes', async (v) => {
      expect(await check(v)).toMatchObject({status: 'pass', detail: `Node.js ${v} (needs ^20.16 || >=22)`})
    })

    it.each(['20.12.2', '20.15.1', '21.7.3', '18.20.4'])('%s fails and names the oldest that works', async (v) => {
      expect(await check(v)).toMatchObject({
        status: 'fail',
        detail: `Node.js ${v} is not one obsctl runs on (needs ^20.16 || >=22)`,
        hint: expect.stringContaining('install Node.js 20.16.0 or a newer release'),
      })
    })
  })
})
