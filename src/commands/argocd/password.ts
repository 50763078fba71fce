import * as Flags from '@oclif/core/flags'
import {BaseCommand} from '../../lib/cli/base.js'
import {canPrompt, prompter} from '../../lib/prompt.js'
import {contextFlag} from '../../lib/cli/context-flag.js'
import {centralCluster, kubeContextName} from '../../lib/config/index.js'
import {inputError} from '../../lib/errors.js'
import type {PasswordReport} from '../../lib/argocd/index.js'

export default class ArgocdPassword extends BaseCommand {
  static override summary = 'Show or rotate the Argo CD admin password.'
  static override description = `Reads Secret argocd/argocd-initial-admin-secret (the password is printed only with --show). --rotate sets a new password the way Argo CD documents it: its bcrypt hash in argocd-secret admin.password and the change time in admin.passwordMtime, then deletes the initial secret. The new password is prompted for on a terminal, or generated with --generate and shown once.`
  static override examples = [
    '<%= config.bin %> argocd password --show',
    '<%= config.bin %> argocd password --rotate           # interactive: asks for the new password twice',
    '<%= config.bin %> argocd password --rotate --generate --json',
  ]
  static override flags = {
    show: Flags.boolean({summary: 'Print the initial admin password.', exclusive: ['rotate']}),
    rotate: Flags.boolean({summary: 'Set a new admin password and delete the initial secret.'}),
    context: contextFlag('the central cluster'),
    generate: Flags.boolean({summary: 'With --rotate: generate the new password (shown once) instead of prompting.', dependsOn: ['rotate']}),
  }

  async run(): Promise<PasswordReport> {
    const {flags} = await this.parse(ArgocdPassword)
    // --rotate changes the cluster: it refuses an inventory config validate rejects, as every such command does
    const inv = flags.rotate ? await this.loadValidInventory(flags.config, {allowOvercommit: true}) : this.loadInventory(flags.config)
    // the new password's source is bad input before anything is contacted
    if (flags.rotate && !flags.generate && !canPrompt()) throw noPasswordError()
    const central = centralCluster(inv.platform)
    const {Kube, useContext} = await import('../../lib/kube/index.js')
    useContext(inv, central.name, flags.context, {kubeconfig: flags.kubeconfig, mustExist: true})
    const lib = await import('../../lib/argocd/index.js')
    const kube = await Kube.connect({kubeconfig: flags.kubeconfig, context: kubeContextName(central)})
    const initial = await lib.readInitialPassword(kube)
    const report: PasswordReport = {namespace: 'argocd', initialSecret: initial !== undefined, rotated: false}

    if (!flags.rotate) {
      if (initial === undefined)
        this.out(`no ${lib.INITIAL_ADMIN_SECRET} on ${kube.context}: the admin password was already changed (or Argo CD is not installed)`)
      else if (flags.show) {
        report.password = initial
        this.out(initial)
      } else this.out(`the initial admin password is in Secret argocd/${lib.INITIAL_ADMIN_SECRET}; print it with --show, replace it with --rotate`)
      return report
    }

    let password: string
    if (flags.generate) {
      password = lib.generatePassword()
      report.generated = true
    } else {
      if (!canPrompt()) throw noPasswordError()
      const ask = prompter(['add --generate to generate one (shown once)'])
      password = await ask.password({message: 'New Argo CD admin password (at least 8 characters)', validate: (v) => v.length >= 8 || 'at least 8 characters'})
      const again = await ask.password({message: 'Again'})
      if (again !== password) throw inputError('the two passwords differ', ['run it again'], 'PASSWORD_MISMATCH')
    }
    const r = await lib.rotateAdminPassword(kube, password)
    Object.assign(report, {rotated: true, passwordMtime: r.passwordMtime, initialSecret: false})
    if (report.generated) {
      report.password = password
      this.out(`new admin password (shown once, store it now): ${password}`)
    }
    this.out(
      `admin password changed at ${r.passwordMtime} (argocd-secret admin.password, bcrypt)${r.initialDeleted ? `; deleted ${lib.INITIAL_ADMIN_SECRET}` : ''}`,
    )
    return report
  }
}

function noPasswordError() {
  return inputError(
    '--rotate needs the new password, and obsctl does not prompt without a terminal (or with CI set)',
    ['add --generate to generate one (shown once)'],
    'NO_TTY',
  )
}
