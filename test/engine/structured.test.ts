/**
 * Structured results (issue 14): the journal keeps each task's report and its failure as an ObsctlError
 * carries it (code, exit code, hints); runStandalone throws the first structured failure with its exit
 * code; flows are ordered lists of registered phases.
 */
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {afterEach, describe, expect, it} from 'vitest'
import {runPhases, runStandalone, StateStore, type Phase, type Target} from '../../src/lib/engine/index.js'
import {inputError, ObsctlError} from '../../src/lib/errors.js'
import {BOOTSTRAP_PHASES, BOOTSTRAP_USER_PHASES, bootstrapPhaseOptions, selectBootstrap} from '../../src/lib/flows/bootstrap.js'
import {ADD_PHASES, CLUSTER_ADD_PHASES, clusterAddPhaseOptions, selectClusterAdd} from '../../src/lib/flows/cluster-add.js'
import {CLUSTER_REMOVE_PHASES, clusterRemovePhaseOptions, selectClusterRemove} from '../../src/lib/flows/cluster-remove.js'
import {CHANGE_PHASES, changePhaseOptions, selectChange} from '../../src/lib/flows/change.js'
import {ROTATE_PHASES, rotatePhaseOptions} from '../../src/lib/flows/rotate.js'
import {CERTS_CHECK_PHASES, CERTS_RENEW_PHASES} from '../../src/lib/flows/certs.js'
import {BACKUP_ABANDON_PHASES, BACKUP_CREATE_PHASES, BACKUP_RESTORE_PHASES} from '../../src/lib/flows/backup.js'
import {buildPhases, PHASE_REGISTRY, REGISTERED_PHASES, selectFlow} from '../../src/lib/flows/registry.js'
import {NODE_ADD_PHASES, nodeAddPhaseOptions} from '../../src/lib/flows/node-add.js'
import {NODE_REMOVE_PHASES, nodeRemovePhaseOptions} from '../../src/lib/flows/node-remove.js'
import {UPGRADE_KUBERNETES_PHASES, upgradeKubernetesPhaseOptions} from '../../src/lib/flows/upgrade-kubernetes.js'
import {readState, tmpInventory} from './helpers.js'

const silent = {renderer: 'silent' as const, handleSignals: false}
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})
const inventory = () => {
  const t = tmpInventory()
  dirs.push(t.dir)
  return t
}

/** A phase over targets a, b, c: `bad` fails with a bad-input error (exit 2), `boom` with a plain Error; the others report. */
function reportingPhase(o: {bad?: string; boom?: string; runs?: string[]} = {}): Phase<Target, {target: string; size: number}> {
  return {
    name: 'reporting',
    title: 'A phase that reports',
    targets: () => ['a', 'b', 'c'].map((id) => ({id})),
    fingerprint: (t) => ({t: t.id}),
    describe: (t) => `report on ${t.id}`,
    async run(t) {
      o.runs?.push(t.id)
      if (t.id === o.bad) throw inputError(`${t.id}: the inventory says something impossible`, ['set clusters.x.y in obsctl.yaml'], 'BAD_THING')
      if (t.id === o.boom) throw new Error(`${t.id}: unexpected`)
      return {summary: `${t.id} reported`, report: {target: t.id, size: t.id.charCodeAt(0)}}
    },
  }
}

describe('the journal keeps reports and structured failures', () => {
  it('a failed task is journalled with code, exit code and hints; a done one with its report; a rerun hands back the journalled report', async () => {
    const t = inventory()
    const r = await runPhases([reportingPhase({bad: 'b'})], {inv: t.inv, ...silent})
    expect(r.ok).toBe(false)
    const tasks = readState(t.stateFile).tasks
    expect(tasks['reporting/b']!.failure).toEqual({
      message: 'b: the inventory says something impossible',
      code: 'BAD_THING',
      exitCode: 2,
      hints: ['set clusters.x.y in obsctl.yaml'],
    })
    expect(tasks['reporting/a']!.report).toEqual({target: 'a', size: 97})
    expect(tasks['reporting/a']!.failure).toBeUndefined()
    expect(r.phases[0]!.tasks[1]).toMatchObject({
      status: 'failed',
      error: 'b: the inventory says something impossible',
      failure: {code: 'BAD_THING', exitCode: 2},
    })

    // rerun: a and c are unchanged, and their reports come from the journal
    const runs: string[] = []
    const again = await runPhases([reportingPhase({runs})], {inv: t.inv, ...silent})
    expect(runs).toEqual(['b'])
    expect(again.phases[0]!.tasks.map((x) => [x.target, x.status, x.report])).toEqual([
      ['a', 'unchanged', {target: 'a', size: 97}],
      ['b', 'done', {target: 'b', size: 98}],
      ['c', 'unchanged', {target: 'c', size: 99}],
    ])
    expect(readState(t.stateFile).tasks['reporting/b']!.failure).toBeUndefined()
  })

  it('a journal written before failures were structured (error: "message") still loads: the message becomes a failure with exit code 1', () => {
    const t = inventory()
    mkdirSync(`${t.dir}/.obsctl`, {recursive: true, mode: 0o700})
    writeFileSync(
      t.stateFile,
      JSON.stringify({
        version: 1,
        inventory: t.file,
        updatedAt: '2026-01-01T00:00:00.000Z',
        tasks: {'nodes/x': {phase: 'nodes', target: 'x', status: 'failed', error: 'ssh: connection refused'}},
      }),
    )
    const rec = StateStore.load(`${t.dir}/.obsctl`, t.file).get('nodes', 'x')!
    expect(rec.failure).toEqual({message: 'ssh: connection refused', exitCode: 1, hints: []})
    expect(rec).not.toHaveProperty('error')
  })

  it('a failure that is not a failure object is refused as an unusable journal (exit 2, the reset hint)', () => {
    const t = inventory()
    mkdirSync(`${t.dir}/.obsctl`, {recursive: true, mode: 0o700})
    writeFileSync(t.stateFile, JSON.stringify({version: 1, tasks: {'nodes/x': {phase: 'nodes', target: 'x', status: 'failed', failure: {message: 'x'}}}}))
    expect(() => StateStore.load(`${t.dir}/.obsctl`, t.file)).toThrow(expect.objectContaining({code: 'STATE_CORRUPT', exitCode: 2}))
  })
})

describe('runStandalone', () => {
  it('returns the reports in target order', async () => {
    const t = inventory()
    const r = await runStandalone(reportingPhase(), {inv: t.inv, command: 'report', ...silent})
    expect(r.reports).toEqual([
      {target: 'a', size: 97},
      {target: 'b', size: 98},
      {target: 'c', size: 99},
    ])
    expect(r.run.ok).toBe(true)
  })

  it('throws the first structured failure with its exit code (2 for bad input, not 1), its hints, the other failed targets and the logs', async () => {
    const t = inventory()
    const err = await runStandalone(reportingPhase({boom: 'a', bad: 'c'}), {inv: t.inv, command: 'report', ...silent}).catch((e) => e)
    expect(err).toBeInstanceOf(ObsctlError)
    // a's plain Error has no code: c's structured failure is the one the command shows
    expect(err).toMatchObject({exitCode: 2, code: 'BAD_THING', message: 'c: the inventory says something impossible'})
    expect(err.hints[0]).toBe('set clusters.x.y in obsctl.yaml')
    expect(err.hints).toContain('2 tasks failed: a and c')
    expect(err.hints.at(-1)).toMatch(/^task logs: .*\.obsctl\/logs\//)
  })

  it('a fleet whose every task failed: the first targets and messages, and how many more (a line, not 1,000 names)', async () => {
    const t = inventory()
    const targets = Array.from({length: 1000}, (_, i) => `cluster-${String(i + 1).padStart(4, '0')}`)
    const fleetPhase = (structured: boolean): Phase<Target, never> => ({
      name: 'fleet',
      title: 'A phase over a fleet that fails everywhere',
      targets: () => targets.map((id) => ({id})),
      fingerprint: (x) => ({t: x.id}),
      describe: (x) => `fail on ${x.id}`,
      async run(x) {
        if (structured) throw inputError(`${x.id}: the inventory says something impossible`, ['set clusters.x.y in obsctl.yaml'], 'BAD_THING')
        throw new Error('unexpected')
      },
    })
    const plain = await runStandalone(fleetPhase(false), {inv: t.inv, command: 'fleet', failureCode: 'FLEET_FAILED', ...silent}).catch((e) => e)
    expect(plain).toMatchObject({exitCode: 1, code: 'FLEET_FAILED'})
    expect(plain.message).toBe(
      `fleet failed: ${targets
        .slice(0, 5)
        .map((c) => `${c}: unexpected`)
        .join('; ')}; and 995 more (obsctl state show)`,
    )
    const coded = await runStandalone(fleetPhase(true), {inv: t.inv, command: 'fleet', ...silent}).catch((e) => e)
    expect(coded).toMatchObject({exitCode: 2, code: 'BAD_THING', message: 'cluster-0001: the inventory says something impossible'})
    expect(coded.hints).toContain(`1000 tasks failed: ${targets.slice(0, 8).join(', ')} and 992 more`)
    for (const h of coded.hints) expect(h.length).toBeLessThan(200)
  })

  it("without a structured failure: every failed task named, exit 1, under the command's failure code", async () => {
    const t = inventory()
    const err = await runStandalone(reportingPhase({boom: 'b'}), {inv: t.inv, command: 'report', failureCode: 'REPORT_FAILED', ...silent}).catch((e) => e)
    expect(err).toMatchObject({exitCode: 1, code: 'REPORT_FAILED', message: 'report failed: b: b: unexpected'})
  })

  it("a phase that cannot list its targets fails the command with that error's exit code", async () => {
    const t = inventory()
    const phase: Phase = {
      ...reportingPhase(),
      targets: () => {
        throw inputError('cluster nope is not in the inventory', [], 'BAD_ARGS')
      },
    }
    await expect(runStandalone(phase, {inv: t.inv, command: 'report', ...silent})).rejects.toMatchObject({
      exitCode: 2,
      code: 'BAD_ARGS',
      message: 'listing targets: cluster nope is not in the inventory',
    })
  })
})

describe('flows are ordered lists of registered phases', () => {
  it("every flow lists only registered phases, each built under its registered name, in the flow's order", async () => {
    for (const flow of [
      BOOTSTRAP_PHASES,
      CLUSTER_ADD_PHASES,
      CLUSTER_REMOVE_PHASES,
      CHANGE_PHASES,
      UPGRADE_KUBERNETES_PHASES,
      NODE_ADD_PHASES,
      NODE_REMOVE_PHASES,
      ROTATE_PHASES,
      CERTS_CHECK_PHASES,
      CERTS_RENEW_PHASES,
      BACKUP_CREATE_PHASES,
      BACKUP_RESTORE_PHASES,
      BACKUP_ABANDON_PHASES,
    ]) {
      for (const n of flow) expect(REGISTERED_PHASES).toContain(n)
    }
    const cluster = tmpInventory()
    dirs.push(cluster.dir)
    const c = cluster.inv.platform.clusters[1]!
    expect((await buildPhases(BOOTSTRAP_PHASES, bootstrapPhaseOptions({}))).map((p) => p.name)).toEqual([...BOOTSTRAP_PHASES])
    expect((await buildPhases(CLUSTER_ADD_PHASES, clusterAddPhaseOptions({}))).map((p) => p.name)).toEqual([...CLUSTER_ADD_PHASES])
    expect((await buildPhases(CLUSTER_REMOVE_PHASES, clusterRemovePhaseOptions({cluster: c}))).map((p) => p.name)).toEqual([...CLUSTER_REMOVE_PHASES])
    expect((await buildPhases(CHANGE_PHASES, changePhaseOptions({}))).map((p) => p.name)).toEqual([...CHANGE_PHASES])
    expect((await buildPhases(UPGRADE_KUBERNETES_PHASES, upgradeKubernetesPhaseOptions({version: '1.35'}))).map((p) => p.name)).toEqual([
      ...UPGRADE_KUBERNETES_PHASES,
    ])
    expect((await buildPhases(NODE_ADD_PHASES, nodeAddPhaseOptions({host: c.nodes[0]!.host}))).map((p) => p.name)).toEqual([...NODE_ADD_PHASES])
    expect((await buildPhases(NODE_REMOVE_PHASES, nodeRemovePhaseOptions({cluster: c, node: c.nodes[0]!}))).map((p) => p.name)).toEqual([...NODE_REMOVE_PHASES])
    // and the registry has no phase no flow runs
    expect((await buildPhases(ROTATE_PHASES, rotatePhaseOptions({credentials: ['grafana'], values: {}}))).map((p) => p.name)).toEqual([...ROTATE_PHASES])
    expect(
      new Set([
        ...BOOTSTRAP_PHASES,
        ...CLUSTER_ADD_PHASES,
        ...CLUSTER_REMOVE_PHASES,
        ...CHANGE_PHASES,
        ...UPGRADE_KUBERNETES_PHASES,
        ...NODE_ADD_PHASES,
        ...NODE_REMOVE_PHASES,
        ...ROTATE_PHASES,
        ...CERTS_CHECK_PHASES,
        ...CERTS_RENEW_PHASES,
        ...BACKUP_CREATE_PHASES,
        ...BACKUP_RESTORE_PHASES,
        ...BACKUP_ABANDON_PHASES,
      ]),
    ).toEqual(new Set(Object.keys(PHASE_REGISTRY)))
  })

  it("cluster add: its phase list is the registry's phases in the flow's order; argocd-refresh comes with sync", () => {
    expect(selectClusterAdd({})).toEqual([...CLUSTER_ADD_PHASES])
    expect(ADD_PHASES).toEqual(CLUSTER_ADD_PHASES.filter((p) => p !== 'argocd-refresh'))
    expect(selectClusterAdd({from: 'sync'})).toEqual(['argocd-refresh', 'sync', 'validate'])
    expect(selectClusterAdd({only: ['sync']})).toEqual(['argocd-refresh', 'sync'])
    expect(selectClusterAdd({from: 'kubeconfig', only: ['kubeconfig', 'render', 'register', 'secrets']})).toEqual([
      'kubeconfig',
      'render',
      'register',
      'secrets',
    ])
  })

  it('bootstrap: argocd-refresh comes with sync (Argo CD must report the pushed commit before sync judges the Applications)', () => {
    expect(selectBootstrap({})).toEqual([...BOOTSTRAP_PHASES])
    expect(BOOTSTRAP_PHASES.slice(BOOTSTRAP_PHASES.indexOf('root-app'))).toEqual(['root-app', 'argocd-refresh', 'sync', 'validate'])
    expect(BOOTSTRAP_USER_PHASES).toEqual(BOOTSTRAP_PHASES.filter((p) => p !== 'argocd-refresh'))
    expect(selectBootstrap({from: 'sync'})).toEqual(['argocd-refresh', 'sync', 'validate'])
    expect(selectBootstrap({only: ['sync']})).toEqual(['argocd-refresh', 'sync'])
    expect(selectBootstrap({only: ['render', 'validate']})).toEqual(['render', 'validate'])
    expect(() => selectBootstrap({only: ['argocd-refresh']})).toThrow(expect.objectContaining({exitCode: 2, code: 'UNKNOWN_PHASE'}))
  })

  it('cluster remove resets nodes only when asked; change waits for Argo CD only after a push', () => {
    expect(selectClusterRemove({})).toEqual([
      'remove-apps',
      'remove-secret',
      'revoke-edge-tokens',
      'revoke-opensearch-user',
      'remove-render',
      'remove-kubeconfig',
      'remove-inventory',
    ])
    expect(selectClusterRemove({resetNodes: true})).toEqual([...CLUSTER_REMOVE_PHASES])
    expect(selectChange({pushed: true})).toEqual(['argocd-refresh', 'sync'])
    expect(selectChange({pushed: true, labels: true})).toEqual(['cluster-labels', 'argocd-refresh', 'sync'])
    expect(selectChange({pushed: true, sync: false, labels: true})).toEqual(['cluster-labels'])
    expect(selectChange({pushed: false, labels: true})).toEqual(['sync'])
    expect(selectChange({pushed: false})).toEqual(['sync'])
    expect(selectChange({pushed: false, sync: false})).toEqual([])
  })

  it("an unknown phase is bad input naming the flow's phases", () => {
    expect(() => selectFlow(BOOTSTRAP_PHASES, {from: 'nope'})).toThrow(expect.objectContaining({exitCode: 2, message: '--from nope: unknown phase'}))
    expect(selectFlow(BOOTSTRAP_PHASES, {from: 'sync'})).toEqual(['sync', 'validate'])
  })
})
