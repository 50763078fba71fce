/**
 * Runs once before the suite: makes sure the system peers the tests need exist (DESIGN.md §5).
 * Missing packages are installed with apt when running as root, else the run fails naming them.
 */
import {ensureSystemPeers} from './peers.js'

export default async function setup(): Promise<void> {
  await ensureSystemPeers()
}
