/**
 * The Alertmanager configuration rendered into kube-prometheus-stack's values (`alertmanager.config`), from
 * the inventory's `alerting`. No secret is in it: every URL, key and password is a `*_file` field pointing
 * at a key of the Secret alertmanager-receivers (created by `obsctl secrets apply`), which the chart mounts
 * through `alertmanager.alertmanagerSpec.secrets` and prometheus-operator places at
 * /etc/alertmanager/secrets/<secret>/<key> (prometheus-operator pkg/alertmanager/statefulset.go secretsDir).
 *
 * Field names checked against Alertmanager's configuration docs and source (kube-prometheus-stack 78.2.1
 * ships Alertmanager v0.28.1): email_configs[].auth_password_file (v0.25, PR #3038), slack_configs[].api_url_file
 * (v0.22, PR #2534), webhook_configs[].url_file (v0.26, PR #3223), pagerduty_configs[].routing_key_file /
 * service_key_file (accepted by amtool v0.25); prometheus-operator's own parser of the config Secret
 * (pkg/alertmanager/types.go) carries the same fields.
 *
 * Only `route` and `receivers` are set: Helm merges them over the chart's `alertmanager.config`, so its
 * `global`, `inhibit_rules` and `templates` stay as the chart ships them; the chart's Watchdog route to the
 * "null" receiver is kept as the first route.
 */
import {NULL_RECEIVER, defaultReceiverOf, receiverSecrets, type AlertReceiver, type AlertRoute, type Alerting} from '../config/alerting.js'
import {SECRET_NAMES} from '../config/model.js'

/** Where prometheus-operator mounts `alertmanagerSpec.secrets` in the Alertmanager container. */
export const ALERTMANAGER_SECRETS_DIR = '/etc/alertmanager/secrets'

/** The mounted file of one key of the receivers' Secret. */
export function secretFile(key: string): string {
  return `${ALERTMANAGER_SECRETS_DIR}/${SECRET_NAMES.alertmanagerReceivers}/${key}`
}

const keyOf = (a: Alerting, receiver: string, field: string) => receiverSecrets(a).find((s) => s.receiver === receiver && s.field === field)!.key

/** `label = "v"` for one value, `label =~ "a|b"` for several (values are plain words: no regex escaping needed). */
function oneOf(label: string, values: string[]): string {
  return values.length === 1 ? `${label} = "${values[0]}"` : `${label} =~ "${values.join('|')}"`
}

function routeOf(r: AlertRoute): Record<string, unknown> {
  const matchers = [
    ...(r.severity ? [oneOf('severity', r.severity)] : []),
    ...(r.clusters ? [oneOf('cluster', r.clusters)] : []),
    ...(r.matchers ?? []).map((m) => m.trim()),
  ]
  return {receiver: r.receiver, matchers, ...(r.continue ? {continue: true} : {}), ...(r.repeatInterval ? {repeat_interval: r.repeatInterval} : {})}
}

function receiverOf(a: Alerting, r: AlertReceiver): Record<string, unknown> {
  const out: Record<string, unknown> = {name: r.name}
  const resolved = r.sendResolved === undefined ? {} : {send_resolved: r.sendResolved}
  if (r.email) {
    const e = r.email
    out.email_configs = [
      {
        ...resolved,
        to: e.to.join(', '),
        from: e.from,
        smarthost: e.smarthost,
        ...(e.authUsername ? {auth_username: e.authUsername} : {}),
        ...(e.authPasswordEnv ? {auth_password_file: secretFile(keyOf(a, r.name, 'authPasswordEnv'))} : {}),
        ...(e.requireTls === undefined ? {} : {require_tls: e.requireTls}),
      },
    ]
  }
  if (r.slack)
    out.slack_configs = [{...resolved, api_url_file: secretFile(keyOf(a, r.name, 'webhookUrlEnv')), ...(r.slack.channel ? {channel: r.slack.channel} : {})}]
  if (r.webhook)
    out.webhook_configs = [
      {...resolved, url_file: secretFile(keyOf(a, r.name, 'urlEnv')), ...(r.webhook.maxAlerts === undefined ? {} : {max_alerts: r.webhook.maxAlerts})},
    ]
  if (r.pagerduty) {
    const pd = r.pagerduty.routingKeyEnv
      ? {routing_key_file: secretFile(keyOf(a, r.name, 'routingKeyEnv'))}
      : {service_key_file: secretFile(keyOf(a, r.name, 'serviceKeyEnv'))}
    out.pagerduty_configs = [{...resolved, ...pd}]
  }
  return out
}

/** `alertmanager.config` (route and receivers) for kube-prometheus-stack's values. */
export function alertmanagerConfig(a: Alerting): {route: Record<string, unknown>; receivers: Record<string, unknown>[]} {
  return {
    route: {
      receiver: defaultReceiverOf(a),
      group_by: a.groupBy,
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: a.repeatInterval,
      routes: [{receiver: NULL_RECEIVER, matchers: ['alertname = "Watchdog"']}, ...a.routes.map(routeOf)],
    },
    receivers: [{name: NULL_RECEIVER}, ...a.receivers.map((r) => receiverOf(a, r))],
  }
}

/** The Secrets Alertmanager mounts (`alertmanagerSpec.secrets`): the receivers' Secret when any receiver has a secret. */
export function alertmanagerSecretMounts(a: Alerting): string[] {
  return receiverSecrets(a).length > 0 ? [SECRET_NAMES.alertmanagerReceivers] : []
}
