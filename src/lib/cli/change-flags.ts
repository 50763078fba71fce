/** The day-2 change path (render → diff → commit → push → sync) as seen by its commands: config set and upgrade chart. */
import * as Flags from '@oclif/core/flags'
import type {ChangeOptions} from '../fleet/change.js'
import {allowOvercommitFlag, BaseCommand} from './base.js'
import {secondsFlag} from './seconds-flag.js'

export const changeFlags = {
  'dry-run': Flags.boolean({summary: 'Show the inventory change and the rendered diff; write nothing.'}),
  push: Flags.boolean({summary: 'Push the commit (--no-push: commit only).', default: true, allowNo: true}),
  sync: Flags.boolean({summary: 'Wait for the Applications to be Synced and Healthy (--no-sync: do not).', default: true, allowNo: true}),
  force: Flags.boolean({summary: 'Overwrite rendered files edited by hand.'}),
  timeout: secondsFlag('Seconds to wait for the sync.', 900),
  'allow-overcommit': allowOvercommitFlag(),
}

interface ChangeFlagValues {
  'dry-run': boolean
  push: boolean
  sync: boolean
  force: boolean
  timeout: number
  'allow-overcommit': boolean
  yes: boolean
  kubeconfig?: string
}

/** A command on the change path: its flags become ChangeOptions the same way everywhere. */
export abstract class ChangeCommand extends BaseCommand {
  protected changeOptions(flags: ChangeFlagValues): ChangeOptions {
    return {
      dryRun: flags['dry-run'],
      yes: flags.yes,
      push: flags.push,
      sync: flags.sync,
      force: flags.force,
      kubeconfig: flags.kubeconfig,
      timeoutSeconds: flags.timeout,
      allowOvercommit: flags['allow-overcommit'],
      renderer: this.renderer(),
      onNotice: (l) => this.note(l),
      onDiff: (t) => this.out(t),
      confirm: (message) => this.confirm(message),
    }
  }
}
