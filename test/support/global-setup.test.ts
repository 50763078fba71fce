/**
 * Where the suite's run folder goes (global-setup.ts memoryFolder): in memory only when the folder is a tmpfs with
 * 2 GiB free. Judged against what df(1) says of this machine's own mounts, not a stand-in.
 */
import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {memoryFolder} from './global-setup.js'

/** what df says: the folder itself when it is a tmpfs with 2 GiB available, else undefined */
function expected(dir: string): string | undefined {
  const [type, avail] = execFileSync('df', ['-k', '--output=fstype,avail', dir], {encoding: 'utf8'}).trim().split('\n')[1]!.trim().split(/\s+/)
  return type === 'tmpfs' && Number(avail) * 1024 >= 2 * 1024 ** 3 ? dir : undefined
}

describe('the run folder', () => {
  it.each(['/', '/dev/shm', process.cwd()])('%s: in memory only when it is a tmpfs with room', (dir) => {
    expect(memoryFolder(dir)).toBe(expected(dir))
  })
  it('is not a folder that does not exist', () => {
    expect(memoryFolder('/no/such/folder')).toBeUndefined()
  })
})
