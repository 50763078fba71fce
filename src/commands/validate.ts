import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {durationFlag} from '../lib/cli/duration-flag.js'
import {BaseCommand} from '../lib/cli/base.js'
import {serviceFlags} from '../lib/cli/service-flags.js'
import {ExitCode} from '../lib/errors.js'
import type {Verdict} from '../lib/validate/types.js'
import {secondsFlag} from '../lib/cli/seconds-flag.js'
import {isTerminal} from '../lib/stdio.js'

export default class Validate extends BaseCommand {
  static override readOnly = true
  static override summary = "Check that every component works and every cluster's data arrives."
  static override description = `Runs every check of the component (default all) concurrently, each HTTP request with its own timeout, and prints a checklist (✔ pass, ‼ warn, ✖ fail) with a hint under each problem. It says first, on stderr, what it checks, and on a terminal which checks are still running. Exit 0 when nothing fails, 1 when any check fails (also with --json).

Services are reached at <service>.k8s-cluster-<id>.<domain> of the central cluster, the inventory's endpoints, --endpoint NAME=URL, or with --via-api-server through the central API server's service proxy. OpenSearch credentials: $OBSCTL_OPENSEARCH_USER and $OBSCTL_OPENSEARCH_PASSWORD, else a prompt on a terminal. S3: the env vars the inventory names (s3.accessKeyEnv/secretKeyEnv). Argo CD: $OBSCTL_ARGOCD_PASSWORD, else the argocd-initial-admin-secret.`
  static override examples = [
    '<%= config.bin %> validate',
    '<%= config.bin %> validate thanos --endpoint thanos-query=https://thanos.example.lab',
    '<%= config.bin %> validate --via-api-server --wait --timeout 600',
    '<%= config.bin %> validate all --skip thanos.bucket --json',
  ]
  static override args = {
    component: Args.string({
      description: 'what to check',
      options: ['prometheus', 'thanos', 'opensearch', 'fluent-bit', 'argocd', 'alertmanager', 'certificates', 'all'],
      default: 'all',
      required: false,
    }),
  }
  static override flags = {
    wait: Flags.boolean({summary: 'Re-run failing checks until they pass or --timeout passes.'}),
    timeout: secondsFlag('Seconds --wait keeps trying.', 300),
    skip: Flags.string({summary: 'Skip a check by id (repeatable), e.g. thanos.bucket.', multiple: true}),
    since: durationFlag('Log freshness window for opensearch.logs (e.g. 15m, 1h).', '15m', {example: '15m, 1h or 2d'}),
    ...serviceFlags(),
  }

  async run(): Promise<Verdict> {
    const parsed = await this.parse(Validate)
    const {args, flags} = parsed
    this.requireWith(parsed, 'timeout', 'wait', 'it is how long --wait re-runs failing checks, and without --wait each check runs once')
    const inv = this.loadInventory(flags.config)
    const [{validate}, {formatVerdict}, {serviceAccess}] = await Promise.all([
      import('../lib/validate/index.js'),
      import('../lib/cli/views/validate.js'),
      import('../lib/platform/access.js'),
    ])
    const verdict = await validate(inv, {
      component: args.component as 'all',
      skip: flags.skip ?? [],
      ...serviceAccess(flags),
      since: flags.since,
      wait: flags.wait,
      waitTimeoutMs: flags.timeout * 1000,
      onStart: (line) => this.note(line),
      onWaiting: (line) => this.note(line),
      // which checks are still pending: on a terminal only (a CI log gets the start line and the verdict)
      onRunning: isTerminal(2) ? (line) => this.note(line) : undefined,
      record: true,
    })
    this.out(formatVerdict(verdict))
    if (!verdict.ok) this.failWith(ExitCode.failed)
    return verdict
  }
}
