import {spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {it} from 'vitest'
import {startKubeServer} from './support/kube/index.js'
import {writeKubeconfigFile} from './support/kube/kubeconfig.js'
import {BIN} from './cli/helpers.js'

it('status over N clusters on one loopback server', async () => {
  const n = Number(process.env.N ?? 1000)
  const {fleetInventory} = await import('../bench/fleet.bench.js' as string)
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-status-'))
  const kube = await startKubeServer({name: 'fleet'})
  kube.addReadyNode('n1')
  const inv = path.join(dir, 'obsctl.yaml')
  writeFileSync(inv, await fleetInventory(n))
  const width = Math.max(2, String(n).length)
  const entries = Array.from({length: n}, (_, i) => {
    const name = `cluster-${String(i + 1).padStart(width, '0')}`
    return kube.kubeconfigEntry({clusterName: name})
  })
  const kc = writeKubeconfigFile(path.join(dir, 'kubeconfig'), entries)
  const script = `TIMEFORMAT='%U %S %R'; time node ${process.env.PROF ?? ""} ${process.env.BINX ?? BIN} ${process.env.CMD ?? "status"} -c ${inv} --kubeconfig ${kc} ${process.env.ARGS ?? ''} > ${dir}/out.json 2>${dir}/err.txt`
  // run without blocking this process (the server lives here)
  const {spawn} = await import('node:child_process')
  const r = await new Promise<string>((resolve) => {
    const c = spawn('bash', ['-c', script], {env: {...process.env, CI: '1', NO_COLOR: '1'}})
    let err = ''
    c.stderr.on('data', (d) => (err += d))
    c.on('close', () => resolve(err))
  })
  console.log('TIME user sys real:', r.trim())
  { const t = (await import('node:fs')).readFileSync(dir + '/out.json', 'utf8').split('\n'); console.log('LINES', t.length, 'LONGEST', Math.max(...t.map((l) => l.length))); for (const [i, l] of t.entries()) if (l.length > 200) console.log('LONG', i, l.length, l.slice(0, 160)); console.log('HEAD', t.slice(0, 12).join('\n')) }
  const out = spawnSync('node', ['-e', `const j=JSON.parse(require('fs').readFileSync('${dir}/out.json','utf8')); if (j.checks) { for (const c of j.checks) console.log(c.id, c.result, "len=" + String(c.detail).length, "fix=" + String(c.fix ?? "").length, String(c.detail).slice(-160)); process.exit(0) } const cells={}; for (const c of j.clusters) for (const k of ['nodes','certs']) { const v=c[k]; const key=k+':'+(v&&v.error? String(v.error).slice(0,60):'ok'); cells[key]=(cells[key]||0)+1 }; console.log(JSON.stringify(cells,null,1))`], {encoding: 'utf8'})
  console.log(out.stdout, out.stderr)
  console.log(spawnSync('tail', ['-5', `${dir}/err.txt`], {encoding: 'utf8'}).stdout)
  await kube.stop()
}, 600_000)

