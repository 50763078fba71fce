/** Flags of the day-2 change path (render → diff → commit → push → sync), shared by config set and upgrade chart. */
import * as Flags from '@oclif/core/flags'

export const changeFlags = {
  push: Flags.boolean({summary: 'Push the commit (--no-push: commit only).', default: true, allowNo: true}),
  sync: Flags.boolean({summary: 'Wait for the Applications to be Synced and Healthy (--no-sync: do not).', default: true, allowNo: true}),
  force: Flags.boolean({summary: 'Overwrite rendered files edited by hand.'}),
  timeout: Flags.integer({summary: 'Seconds to wait for the sync.', default: 900, min: 1}),
}
