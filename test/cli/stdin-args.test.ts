/**
 * An argument is only ever what the command line says. oclif takes a missing argument from stdin when stdin is not a
 * terminal (`echo cluster-04 | obsctl cluster remove` removed cluster-04, `echo cluster-03 | obsctl cluster register`
 * registered cluster-03 alone), waiting up to 10 ms for it: BaseCommand.parse and the autocomplete commands parse
 * every argument with `ignoreStdin` (src/lib/cli/base.ts withoutStdin). The built CLI, with stdin a pipe.
 */
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_TEXT} from '../support/inventory.js'
import {obsctl, requireBuild, tmpDir} from './helpers.js'

let dir: string
let file: string
beforeAll(() => {
  requireBuild()
  dir = tmpDir()
  file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, EXAMPLE_TEXT)
})

describe('arguments never come from stdin', () => {
  it('an optional argument left out: cluster register plans every edge cluster, whatever stdin names', async () => {
    const r = await obsctl(['cluster', 'register', '--dry-run', '-c', file], {input: 'cluster-03\n', cwd: dir})
    expect(r.status, r.stderr).toBe(0)
    expect(
      r.stdout
        .split('\n')
        .filter((l) => / would run: /.test(l))
        .map((l) => l.split(':')[0]),
    ).toEqual(['cluster-02', 'cluster-03', 'cluster-04'])
  })

  it('a required argument left out: cluster remove is exit 2 naming it, though stdin names a cluster', async () => {
    const r = await obsctl(['cluster', 'remove', '--dry-run', '-c', file], {input: 'cluster-04\n', cwd: dir})
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^Error: Missing 1 required arg:\nname {2}The edge cluster to remove\./)
    expect(r.stdout).not.toContain('cluster-04')
  })

  it("the autocomplete commands (oclif's plugin's, extended): the shell is the argument or $SHELL, not what stdin says", async () => {
    const env = {SHELL: '/bin/bash', XDG_CACHE_HOME: path.join(dir, 'cache')}
    const r = await obsctl(['autocomplete', 'script'], {input: 'fish\n', cwd: dir, env})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain('OBSCTL_AC_BASH_SETUP_PATH=')
    const fish = await obsctl(['autocomplete', 'script', 'fish'], {input: 'bash\n', cwd: dir, env})
    expect(fish.status, fish.stderr).toBe(0)
    expect(fish.stdout).toContain('complete -c obsctl')
  })
})
