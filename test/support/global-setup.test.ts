/**
 * Where the suite's run folder goes (global-setup.ts memoryFolder): in memory only when the folder is a tmpfs with
 * 2 GiB free where a script can run. Judged against what df(1) and findmnt(8) say of this machine's own mounts, not a
 * stand-in. (A noexec /dev/shm was tried by hand: this file run under `unshare -rm` after
 * `mount -t tmpfs -o size=3g,noexec tmpfs /dev/shm` passes, memoryFolder then undefined.)
 */
import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {memoryFolder} from './global-setup.js'

/** what df and findmnt say: the folder itself when it is a tmpfs with 2 GiB available, not mounted noexec, else undefined */
function expected(dir: string): string | undefined {
  const [type, avail] = execFileSync('df', ['-k', '--output=fstype,avail', dir], {encoding: 'utf8'}).trim().split('\n')[1]!.trim().split(/\s+/)
  const options = execFileSync('findmnt', ['-n', '-o', 'OPTIONS', '-T', dir], {encoding: 'utf8'}).trim().split(',')
  return type === 'tmpfs' && Number(avail) * 1024 >= 2 * 1024 ** 3 && !options.includes('noexec') ? dir : undefined
}

describe('the run folder', () => {
  it.each(['/', '/dev/shm', process.cwd()])('%s: in memory only when it is a tmpfs with room', (dir) => {
    expect(memoryFolder(dir)).toBe(expected(dir))
  })
  it('is not a folder that does not exist', () => {
    expect(memoryFolder('/no/such/folder')).toBeUndefined()
  })
})
