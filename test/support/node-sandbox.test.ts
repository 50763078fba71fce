/**
 * The node sandbox's shims (test/support/node-sandbox/*.sh: the stand-ins for systemctl, kubeadm, apt-get, … on the
 * sandbox nodes, ../README-nodes.md) are linted as the product's node scripts are (test/nodes/script.test.ts):
 * shellcheck at style level, with the files they source followed, and bash parses them. A warning there had gone
 * unnoticed (a `case` pattern that could never match, `A && B || C` read as if-then-else).
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {expect, test} from 'vitest'

const DIR = import.meta.dirname
const SHIMS = readdirSync(DIR, {recursive: true, encoding: 'utf8'})
  .filter((f) => f.endsWith('.sh'))
  .sort()

test('every shell file below test/support is linted, the shims among them', () => {
  expect(SHIMS).toEqual(expect.arrayContaining([path.join('node-sandbox', 'shim.sh'), path.join('node-sandbox', 'shim-certs-etcd.sh')]))
})

test.each(SHIMS)('%s passes shellcheck', (f) => {
  const file = path.join(DIR, f)
  const r = spawnSync('shellcheck', ['--shell=bash', '--severity=style', '--external-sources', file], {encoding: 'utf8'})
  expect(r.stdout + r.stderr).toBe('')
  expect(r.status).toBe(0)
  // and bash parses it
  execFileSync('bash', ['-n', file])
})
