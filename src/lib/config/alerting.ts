/**
 * `alerting` in the inventory: where Alertmanager sends alerts. Receivers of the usual kinds (email, Slack,
 * generic webhook, PagerDuty) and routes by severity and/or cluster, with a default receiver.
 *
 * Every URL, key and password is named here only by the environment variable that holds it
 * (like s3.accessKeyEnv): `obsctl secrets apply` puts the values into the Secret
 * monitoring/alertmanager-receivers, mounted into Alertmanager, and the rendered Alertmanager config in Git
 * points at the mounted files (`*_file` fields). See src/lib/alerts/config.ts.
 *
 * Self-contained (no import of schema.ts, which imports this file): its own small field rules.
 */
import type * as z from 'zod'
import {zod} from '../lazy-deps.js'
import type {FieldPath} from './field-path.js'
import {durationRangeError, isDuration} from './units.js'
import {emptyWhenNull} from './empty-mapping.js'

/** The `alerting` schema, built on first use (schema.ts builds the inventory's schema the same way). */
function buildAlertingSchema() {
  const z = zod()
  // the same rules as schema.ts's envName / duration (kept here: schema.ts imports this module)
  const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name (A-Z, 0-9, _)')
  // Alertmanager reads it with prometheus/common's model.ParseDuration too: the same upper bound
  const duration = z.string().superRefine((v, ctx) => {
    const problem = isDuration(v) ? durationRangeError(v) : 'expected a duration such as 5m, 4h, 1d'
    if (problem) ctx.addIssue({code: 'custom', message: problem})
  })
  /** a receiver name becomes part of a Secret key: letters, digits, -, _ (Secret keys allow [-._a-zA-Z0-9]) */
  const receiverName = z
    .string()
    .regex(/^[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?$/, 'expected a receiver name of letters, digits, - and _ (e.g. ops-email)')
    .max(63)
  const labelValue = z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected a label value of letters, digits, _ and -')
  const email = z.string().regex(/^[^\s@,]+@[^\s@,]+$/, 'expected an e-mail address such as ops@example.org')
  const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port of the SMTP server, e.g. smtp.example.org:587')
  /** an Alertmanager matcher: label, operator (=, !=, =~, !~), value — checked in full by Alertmanager (amtool check-config) */
  const matcher = z
    .string()
    .regex(/^\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*\S.*$/, 'expected a matcher such as namespace = "logging" or alertname =~ "Thanos.*"')

  const EmailReceiverSchema = z.strictObject({
    to: z.array(email).min(1).describe('recipients'),
    from: email.describe('sender address, e.g. alertmanager@example.lab'),
    smarthost: hostPort.describe('SMTP server host:port (STARTTLS is required unless requireTls: false), e.g. smtp.example.lab:587'),
    authUsername: z.string().min(1).optional().describe('SMTP login; needs authPasswordEnv, e.g. alertmanager'),
    authPasswordEnv: envName.optional().describe('env var holding the SMTP password (put into the Secret, never in Git), e.g. OBSCTL_SMTP_PASSWORD'),
    requireTls: z.boolean().optional().describe("require STARTTLS (Alertmanager's default: true)"),
  })

  const SlackReceiverSchema = z.strictObject({
    webhookUrlEnv: envName.describe('env var holding the Slack incoming-webhook URL, e.g. OBSCTL_SLACK_WEBHOOK_URL'),
    channel: z.string().min(1).optional().describe("channel, e.g. #alerts (else the webhook's own)"),
  })

  const WebhookReceiverSchema = z.strictObject({
    urlEnv: envName.describe('env var holding the webhook URL (it often embeds a token), e.g. OBSCTL_ALERT_WEBHOOK_URL'),
    maxAlerts: z.number().int().min(0).optional().describe('alerts per message, 0 = all (the default), e.g. 10'),
  })

  const PagerDutyReceiverSchema = z.strictObject({
    routingKeyEnv: envName.optional().describe('env var holding the Events API v2 integration (routing) key, e.g. OBSCTL_PAGERDUTY_ROUTING_KEY'),
    serviceKeyEnv: envName
      .optional()
      .describe('env var holding a Prometheus-integration (Events API v1) service key; use routingKeyEnv for v2, e.g. OBSCTL_PAGERDUTY_SERVICE_KEY'),
  })

  const ReceiverSchema = z.strictObject({
    name: receiverName.describe('referenced by routes and defaultReceiver; "null" is reserved'),
    email: EmailReceiverSchema.optional().describe(
      'send by SMTP, e.g. {to: [ops@example.lab], from: alertmanager@example.lab, smarthost: smtp.example.lab:587}',
    ),
    slack: SlackReceiverSchema.optional().describe('post to Slack, e.g. {webhookUrlEnv: OBSCTL_SLACK_WEBHOOK_URL, channel: "#alerts"}'),
    webhook: WebhookReceiverSchema.optional().describe('POST to a URL, e.g. {urlEnv: OBSCTL_ALERT_WEBHOOK_URL}'),
    pagerduty: emptyWhenNull(PagerDutyReceiverSchema)
      .optional()
      .describe('page through PagerDuty Events v2, e.g. {routingKeyEnv: OBSCTL_PAGERDUTY_ROUTING_KEY}'),
    sendResolved: z.boolean().optional().describe("also notify when an alert resolves (Alertmanager's default per kind)"),
  })

  const RouteSchema = z.strictObject({
    receiver: receiverName.describe('a receiver name from alerting.receivers, or "null" to drop what the route matches, e.g. ops-email'),
    severity: z.array(labelValue).min(1).optional().describe('match alerts whose severity label is one of these (critical, warning, info)'),
    clusters: z.array(z.string().min(1)).min(1).optional().describe('match alerts whose cluster label is one of these cluster names'),
    matchers: z.array(matcher).optional().describe('more Alertmanager matchers, e.g. namespace = "logging"'),
    continue: z.boolean().default(false).describe('keep matching the next routes after this one'),
    repeatInterval: duration.optional().describe('re-send a still-firing alert after this long (default: alerting.repeatInterval), e.g. 4h'),
  })

  const AlertingSchema = z.strictObject({
    receivers: z.array(ReceiverSchema).default([]).describe('where alerts go; none: alerts reach nobody (config validate warns)'),
    defaultReceiver: receiverName.optional().describe('receives what no route matches (default: the first receiver)'),
    routes: z.array(RouteSchema).default([]).describe('first match wins (unless continue: true)'),
    groupBy: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a label name'))
      .default(['alertname', 'cluster', 'namespace'])
      .describe('labels that group alerts into one notification; default [alertname, cluster, namespace]'),
    repeatInterval: duration.default('12h').describe('re-send a still-firing alert after this long'),
  })
  return AlertingSchema
}

let built: ReturnType<typeof buildAlertingSchema> | undefined
export const alertingSchema = () => (built ??= buildAlertingSchema())

export type Alerting = z.output<ReturnType<typeof buildAlertingSchema>>
export type AlertReceiver = Alerting['receivers'][number]
export type AlertRoute = Alerting['routes'][number]

export const RECEIVER_KINDS = ['email', 'slack', 'webhook', 'pagerduty'] as const
export type ReceiverKind = (typeof RECEIVER_KINDS)[number]

/** The receiver every chart default (Watchdog) and an empty inventory route to: Alertmanager drops what it gets. */
export const NULL_RECEIVER = 'null'

/** One secret value of a receiver: the env var it comes from, the Secret key it goes to, where it is named. */
export interface ReceiverSecret {
  receiver: string
  kind: ReceiverKind
  /** the inventory field naming the env var, e.g. authPasswordEnv */
  field: string
  env: string
  /** key in the Secret alertmanager-receivers (and so the file name under its mount) */
  key: string
  /** field path in the inventory (for file:line) */
  at: FieldPath
}

const SECRET_FIELDS: Record<ReceiverKind, {field: string; suffix: string}[]> = {
  email: [{field: 'authPasswordEnv', suffix: 'smtp-password'}],
  slack: [{field: 'webhookUrlEnv', suffix: 'slack-webhook-url'}],
  webhook: [{field: 'urlEnv', suffix: 'webhook-url'}],
  pagerduty: [
    {field: 'routingKeyEnv', suffix: 'pagerduty-routing-key'},
    {field: 'serviceKeyEnv', suffix: 'pagerduty-service-key'},
  ],
}

/** Every secret value the receivers need, in inventory order (names only, never a value). */
export function receiverSecrets(a: Alerting | undefined): ReceiverSecret[] {
  const out: ReceiverSecret[] = []
  ;(a?.receivers ?? []).forEach((r, i) => {
    for (const kind of RECEIVER_KINDS) {
      const cfg = r[kind] as Record<string, unknown> | undefined
      if (!cfg) continue
      for (const {field, suffix} of SECRET_FIELDS[kind]) {
        const env = cfg[field]
        if (typeof env === 'string') out.push({receiver: r.name, kind, field, env, key: `${r.name}.${suffix}`, at: ['alerting', 'receivers', i, kind, field]})
      }
    }
  })
  return out
}

/** The receiver alerts go to when no route matches. */
export function defaultReceiverOf(a: Alerting | undefined): string {
  return a?.defaultReceiver ?? a?.receivers[0]?.name ?? NULL_RECEIVER
}

type Add = (id: string, severity: 'error' | 'warning' | 'info', at: FieldPath, message: string, fix: string) => void

/** `config validate` rules for alerting (lint.ts calls this with its finding sink). */
export function lintAlerting(a: Alerting | undefined, clusterNames: string[], add: Add): void {
  const receivers = a?.receivers ?? []
  if (receivers.length === 0) {
    add(
      'alerting-no-receiver',
      'warning',
      a ? ['alerting'] : [],
      'no alert receiver: Alertmanager routes every alert to the "null" receiver, so alerts reach nobody',
      'add alerting.receivers (email, slack, webhook or pagerduty) and, optionally, alerting.routes; see the commented example in obsctl init --example',
    )
    if (!a) return
  }
  const names = new Map<string, number>()
  receivers.forEach((r, i) => {
    if (r.name === NULL_RECEIVER)
      add(
        'alerting-receiver-name',
        'error',
        ['alerting', 'receivers', i, 'name'],
        `receiver name "${NULL_RECEIVER}" is reserved: obsctl renders it as the receiver that drops alerts (the chart's Watchdog route uses it)`,
        'choose another name',
      )
    else if (names.has(r.name))
      add(
        'alerting-receiver-name',
        'error',
        ['alerting', 'receivers', i, 'name'],
        `duplicate receiver name "${r.name}" (also receivers[${names.get(r.name)}])`,
        'give each receiver a unique name',
      )
    else names.set(r.name, i)
    const kinds = RECEIVER_KINDS.filter((k) => r[k])
    if (kinds.length === 0)
      add(
        'alerting-receiver-empty',
        'error',
        ['alerting', 'receivers', i],
        `receiver "${r.name}" has no email, slack, webhook or pagerduty: it would drop every alert sent to it`,
        'add one of email, slack, webhook, pagerduty',
      )
    if (r.email && r.email.authUsername && !r.email.authPasswordEnv)
      add(
        'alerting-email-auth',
        'error',
        ['alerting', 'receivers', i, 'email', 'authUsername'],
        `receiver "${r.name}": authUsername without authPasswordEnv`,
        'set authPasswordEnv to the env var holding the SMTP password (or remove authUsername for an SMTP relay without login)',
      )
    if (r.email && r.email.authPasswordEnv && !r.email.authUsername)
      add(
        'alerting-email-auth',
        'error',
        ['alerting', 'receivers', i, 'email', 'authPasswordEnv'],
        `receiver "${r.name}": authPasswordEnv without authUsername (Alertmanager authenticates only with a username)`,
        'set authUsername',
      )
    // requireTls: false lets Alertmanager log in on a connection without STARTTLS: Go's net/smtp PLAIN refuses that
    // (but for localhost), Alertmanager's own LOGIN mechanism does not, and sends the password readable on the wire.
    // Port 465 is TLS from the first byte (Alertmanager dials it with TLS whatever require_tls says). Checked against
    // the real Alertmanager 0.25 in test/alerts/alerting.test.ts ("why requireTls: false with a login is refused").
    if (r.email && r.email.authPasswordEnv && r.email.requireTls === false && !r.email.smarthost.endsWith(':465'))
      add(
        'alerting-email-plaintext-auth',
        'error',
        ['alerting', 'receivers', i, 'email', 'requireTls'],
        `receiver "${r.name}": requireTls: false with a login (authPasswordEnv): the SMTP password would cross the network unencrypted`,
        'remove requireTls: false (Alertmanager then requires STARTTLS), use the TLS port (smarthost host:465), or remove authUsername/authPasswordEnv for a relay without login',
      )
    if (r.pagerduty && Boolean(r.pagerduty.routingKeyEnv) === Boolean(r.pagerduty.serviceKeyEnv))
      add(
        'alerting-pagerduty-key',
        'error',
        ['alerting', 'receivers', i, 'pagerduty'],
        `receiver "${r.name}": PagerDuty needs exactly one of routingKeyEnv (Events API v2) or serviceKeyEnv (v1)`,
        'set routingKeyEnv (the integration key of an Events API v2 integration)',
      )
  })
  // "null" is always there: a route to it drops what it matches (the chart's Watchdog route does that)
  const known = (n: string) => n === NULL_RECEIVER || names.has(n)
  const list = [...names.keys(), NULL_RECEIVER].join(', ')
  if (a?.defaultReceiver && !known(a.defaultReceiver))
    add(
      'alerting-unknown-receiver',
      'error',
      ['alerting', 'defaultReceiver'],
      `defaultReceiver "${a.defaultReceiver}" is not a receiver`,
      `use one of: ${list}`,
    )
  ;(a?.routes ?? []).forEach((r, i) => {
    if (!known(r.receiver))
      add(
        'alerting-unknown-receiver',
        'error',
        ['alerting', 'routes', i, 'receiver'],
        `route ${i + 1} names receiver "${r.receiver}", which is not in alerting.receivers`,
        `use one of: ${list}`,
      )
    for (const [j, c] of (r.clusters ?? []).entries()) {
      if (!clusterNames.includes(c))
        add(
          'alerting-unknown-cluster',
          'error',
          ['alerting', 'routes', i, 'clusters', j],
          `route ${i + 1} matches cluster "${c}", which is not in the inventory`,
          `use one of: ${clusterNames.join(', ')}`,
        )
    }
    if (!r.severity && !r.clusters && !(r.matchers && r.matchers.length > 0))
      add(
        'alerting-route-matches-all',
        'error',
        ['alerting', 'routes', i],
        `route ${i + 1} has no severity, clusters or matchers: it would take every alert`,
        'add severity, clusters or matchers, or make its receiver the defaultReceiver',
      )
  })
}
