/**
 * The one check model (src/lib/checks/): the runner's guarantees (every check runs, concurrency bound,
 * a timeout or a throw is a fail — never a pass —, --wait retries until pass or deadline, skip) and the
 * renderers, then that node preflight, validate and config lint speak it.
 */
import {describe, expect, it} from 'vitest'
import {fail, formatChecklist, formatOutcome, pass, runChecks, selectChecks, summarize, summaryLine, warn, type CheckDef} from '../../src/lib/checks/index.js'
import {ObsctlError} from '../../src/lib/errors.js'
import {lintInventory, lintOutcomes} from '../../src/lib/config/lint.js'
import {EXAMPLE_ANSWERS, parseInventory, renderInventoryYaml} from '../../src/lib/config/index.js'
import {checkDef, fromOutcome, runChecks as runValidate, selectChecks as selectValidate} from '../../src/lib/validate/run.js'
import type {Check, ValidateContext} from '../../src/lib/validate/types.js'
import {formatVerdict} from '../../src/lib/cli/views/validate.js'
import {verdictOf} from '../../src/lib/validate/run.js'
import {startLine} from '../../src/lib/validate/index.js'

const def = (id: string, run: CheckDef<null>['run'], extra: Partial<CheckDef<null>> = {}): CheckDef<null> => ({id, title: `check ${id}`, run, ...extra})

describe('check runner', () => {
  it('runs every check, in order, at most `concurrency` at once; one that throws does not stop the others', async () => {
    let inFlight = 0
    let most = 0
    const slow = (id: string) =>
      def(id, async () => {
        inFlight++
        most = Math.max(most, inFlight)
        await new Promise((r) => setImmediate(r))
        await new Promise((r) => setImmediate(r))
        inFlight--
        return pass(`${id} ok`)
      })
    const defs = [
      slow('a'),
      def('boom', async () => {
        throw new ObsctlError('it broke', {hints: ['do this']})
      }),
      slow('b'),
      slow('c'),
      slow('d'),
    ]
    const out = await runChecks(defs, null, {concurrency: 2})
    expect(most).toBe(2)
    expect(out.map((o) => [o.id, o.status])).toEqual([
      ['a', 'pass'],
      ['boom', 'fail'],
      ['b', 'pass'],
      ['c', 'pass'],
      ['d', 'pass'],
    ])
    expect(out[1]).toMatchObject({detail: 'it broke', hint: 'do this', title: 'check boom', attempts: 1})
    expect(out[0]!.hint).toBeUndefined()
  })

  it('a check that does not answer in time is a fail with the timeout hint, and its signal is aborted', async () => {
    let aborted = false
    const hang = def('hang', (_c, signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))))
    const [o] = await runChecks([hang], null, {timeoutMs: 50, timeoutHint: 'raise --timeout'})
    expect(o).toMatchObject({id: 'hang', status: 'fail', detail: 'no result within 0s', hint: 'raise --timeout'})
    expect(aborted).toBe(true)
  })

  it('--wait re-runs a failing check until it passes; without --wait it runs once; a deadline ends the waiting', async () => {
    let n = 0
    const flaky = def('flaky', async () => (++n < 3 ? fail(`attempt ${n}`) : pass(`attempt ${n}`)))
    const [once] = await runChecks([flaky], null, {})
    expect(once).toMatchObject({status: 'fail', attempts: 1})
    n = 0
    const [waited] = await runChecks([flaky], null, {wait: true, intervalMs: 1})
    expect(waited).toMatchObject({status: 'pass', detail: 'attempt 3', attempts: 3})
    const never = def('never', async () => fail('still down'))
    const [gaveUp] = await runChecks([never], null, {wait: true, intervalMs: 5, waitTimeoutMs: 60})
    expect(gaveUp!.status).toBe('fail')
    expect(gaveUp!.attempts).toBeGreaterThan(1)
  })

  it('a probe may judge many things: its outcomes carry the definition meta; a timed-out probe is one fail for it', async () => {
    const probe: CheckDef<null, {node: string}> = {
      id: 'ssh',
      title: 'SSH',
      meta: {node: 'n1'},
      target: 'c1/n1',
      run: async () => [
        {node: 'n1', target: 'c1/n1', id: 'ssh', title: 'SSH', status: 'pass', detail: 'connected'},
        {node: 'n1', target: 'c1/n1', id: 'swap', title: 'Swap', status: 'warn', detail: '1 device', hint: 'turn it off'},
      ],
    }
    const out = await runChecks([probe], null)
    expect(out.map((o) => [o.node, o.id, o.status])).toEqual([
      ['n1', 'ssh', 'pass'],
      ['n1', 'swap', 'warn'],
    ])
    const stuck = {...probe, run: () => new Promise<never>(() => {})}
    const [t] = await runChecks([stuck], null, {timeoutMs: 20})
    expect(t).toMatchObject({node: 'n1', target: 'c1/n1', id: 'ssh', status: 'fail'})
  })

  it('skip: known ids are left out and reported; an unknown id is bad input (exit 2) naming the known ones', () => {
    const defs = [def('a', async () => pass('')), def('b', async () => pass(''))]
    expect(selectChecks(defs, ['b'])).toEqual({run: [defs[0]], skipped: ['b']})
    let err: unknown
    try {
      selectChecks(defs, ['zzz'])
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ObsctlError)
    expect(err).toMatchObject({exitCode: 2, code: 'BAD_SKIP'})
    expect((err as ObsctlError).hints.join(' ')).toContain('a, b')
  })
})

describe('check renderers', () => {
  it('icons per status, the hint only under a problem, groups as headings, counts in the summary line', () => {
    const outcomes = [
      {id: 'x.one', title: 'One', group: 'x', ...pass('fine'), hint: 'not shown'},
      {id: 'x.two', title: 'Two', group: 'x', ...warn('meh', 'do that')},
      {id: 'y.three', title: 'Three', group: 'y', target: 'c1/n1', ...fail('broken\nsecond line', 'fix it')},
      {id: 'z', title: 'Info', status: 'info' as const, detail: 'fyi'},
    ]
    expect(formatOutcome(outcomes[0]!)).toBe('✔ One [x.one]\n    fine')
    expect(formatOutcome(outcomes[2]!)).toBe('✖ c1/n1 Three [y.three]\n    broken\n    second line\n    → fix it')
    const text = formatChecklist(outcomes, ['y', 'x'])
    expect(text.indexOf('ℹ Info [z]')).toBe(0)
    expect(text.indexOf('y\n-\n✖')).toBeLessThan(text.indexOf('x\n-\n✔'))
    expect(text).toContain('‼ Two [x.two]\n    meh\n    → do that')
    const s = summarize(outcomes, 1)
    expect(s).toEqual({pass: 1, info: 1, warn: 1, fail: 1, skipped: 1})
    expect(summaryLine(s, {skipped: ['w'], durationMs: 1500})).toBe('✖ 1 passed, 1 info, 1 warning, 1 failed, 1 skipped (w) in 1.5s')
    expect(summaryLine(summarize([outcomes[0]!]))).toBe('✔ 1 passed, 0 warnings, 0 failed')
  })
})

describe('the commands speak the model', () => {
  it('config lint: error → fail, warning → warn, info → info; the field path is the title, its file:line the target', () => {
    // the example inventory: warnings and an info finding (a real lint), plus an error finding
    const r = lintInventory(parseInventory(renderInventoryYaml(EXAMPLE_ANSWERS), '/tmp/x/obsctl.yaml'))
    const findings = [
      ...r.findings,
      {
        id: 'thanos-raw-retention',
        severity: 'error' as const,
        path: 'retention.thanos.raw',
        location: '/tmp/x/obsctl.yaml:40:5',
        message: 'under 40h',
        fix: 'set raw to 40h or more',
      },
    ]
    expect(new Set(findings.map((f) => f.severity))).toEqual(new Set(['error', 'warning', 'info']))
    const out = lintOutcomes({findings})
    expect(out.length).toBe(findings.length)
    for (const [i, f] of findings.entries()) {
      expect(out[i]).toMatchObject({
        id: f.id,
        title: f.path,
        target: f.location,
        detail: f.message,
        hint: f.fix,
        status: {error: 'fail', warning: 'warn', info: 'info'}[f.severity],
      })
    }
    expect(formatOutcome(out.at(-1)!)).toBe(
      '✖ /tmp/x/obsctl.yaml:40:5 retention.thanos.raw [thanos-raw-retention]\n    under 40h\n    → set raw to 40h or more',
    )
  })

  it('validate: a Check keeps its `result` key (validate --json, .obsctl/validation.json) and runs through the model runner', async () => {
    const checks: Check[] = [
      {id: 'thanos.a', component: 'thanos', title: 'A', run: async () => ({result: 'pass', detail: 'ok'})},
      {id: 'thanos.b', component: 'thanos', title: 'B', run: async () => ({result: 'fail', detail: 'down', hint: 'fix', clusters: ['cluster-02']})},
      {
        id: 'argocd.c',
        component: 'argocd',
        title: 'C',
        run: async () => {
          throw new Error('no route')
        },
      },
    ]
    expect(checkDef(checks[0]!)).toMatchObject({id: 'thanos.a', group: 'thanos', meta: {component: 'thanos'}})
    const {run, skipped} = selectValidate('thanos', ['thanos.a'], checks)
    expect([run.map((c) => c.id), skipped]).toEqual([['thanos.b'], ['thanos.a']])
    expect(() => selectValidate('all', ['nope'], checks)).toThrow(/--skip nope: no such check/)
    const ctx = {timeoutMs: 1000} as ValidateContext
    const out = await runValidate(checks, ctx)
    expect(out.map((o) => [o.id, o.component, o.result])).toEqual([
      ['thanos.a', 'thanos', 'pass'],
      ['thanos.b', 'thanos', 'fail'],
      ['argocd.c', 'argocd', 'fail'],
    ])
    expect(out[1]).toMatchObject({detail: 'down', hint: 'fix', clusters: ['cluster-02'], attempts: 1})
    expect(out[1]).not.toHaveProperty('status')
    expect(fromOutcome({id: 'x', title: 'X', component: 'thanos', status: 'warn', detail: 'd'})).toEqual({
      id: 'x',
      component: 'thanos',
      title: 'X',
      result: 'warn',
      detail: 'd',
      durationMs: 0,
      attempts: 1,
    })
    const text = formatVerdict(verdictOf(out, ['thanos.z'], ['argocd', 'thanos'], 2000))
    expect(text).toMatch(/^argocd\n------\n✖ C \[argocd\.c\]\n {4}no route\n\nthanos\n------\n✔ A/)
    expect(text.split('\n').at(-1)).toBe('✖ 1 passed, 0 warnings, 2 failed, 1 skipped (thanos.z) in 2.0s')
  })

  it('validate says first what it checks: the components (in their order), how many checks, the skipped ones, how it waits', () => {
    const c = (id: string, component: Check['component']): Check => ({id, component, title: id, run: async () => ({result: 'pass', detail: ''})})
    const run = [c('thanos.a', 'thanos'), c('argocd.b', 'argocd'), c('thanos.c', 'thanos')]
    expect(startLine(run, [])).toBe('checking argocd, thanos: 3 checks at once')
    expect(startLine(run.slice(0, 1), ['thanos.bucket'], {viaApiServer: true, wait: true, waitTimeoutMs: 600_000})).toBe(
      'checking thanos: 1 check at once (skipped: thanos.bucket); services through the central API server; failing ones again until they pass or 10m passes',
    )
  })
})
