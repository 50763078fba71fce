/**
 * The run lock (`.obsctl/lock`, ./lock.ts) held by a command that edits the inventory or commits the GitOps
 * working copy, from before it writes until after its commit, push and engine run: two such commands on one
 * inventory never interleave. Taken after the command has read the inventory and planned from it (and asked its
 * questions): under the lock the file is read again and must still be the text it planned from — else another run
 * (or an editor) wrote it in between, and the command stops (CONCURRENT_EDIT) rather than overwrite that edit.
 * The command passes the lock to its engine run (RunOptions.lock) and releases it when it is done.
 */
import type {LoadedInventory} from '../config/load.js'
import {obsctlDir} from '../config/model.js'
import {refuseConcurrentEdit} from '../config/edit.js'
import {holdPoint} from './kill-point.js'
import {acquireLock, type Lock} from './lock.js'

export async function lockInventory(inv: Pick<LoadedInventory, 'file' | 'dir' | 'text'>, command: string, onNotice?: (msg: string) => void): Promise<Lock> {
  await holdPoint('inventory-lock:before')
  const lock = acquireLock(obsctlDir(inv.dir), command, onNotice)
  try {
    refuseConcurrentEdit(inv, command)
  } catch (error) {
    lock.release()
    throw error
  }
  await holdPoint('inventory-lock:held')
  return lock
}

/** `fn` with the inventory lock held (lockInventory), released when it ends, however it ends. */
export async function withInventoryLock<T>(
  inv: Pick<LoadedInventory, 'file' | 'dir' | 'text'>,
  command: string,
  onNotice: ((msg: string) => void) | undefined,
  fn: (lock: Lock) => Promise<T>,
): Promise<T> {
  const lock = await lockInventory(inv, command, onNotice)
  try {
    return await fn(lock)
  } finally {
    lock.release()
  }
}
