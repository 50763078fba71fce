/**
 * TEMPORARY: findings of the upstream checks that the current templates still produce, each with the
 * issue-12 item that fixes it. rendered.test.ts subtracts them, and fails when an entry no longer
 * matches any finding ("remove it from known-findings"). Empty this list as the fixes merge; never
 * add to it to make a new defect pass.
 */
export interface KnownFinding {
  /** issue 12, "What is wrong today", item number */
  item: number
  /** matched against formatFinding(): `file: Kind/name path: message [source]` */
  match: RegExp
}

export const KNOWN_FINDINGS: KnownFinding[] = [
  // 3. FluentBit runs the stock image, which ignores the operator's configuration
  {item: 3, match: /^deploy\/base\/fluent-bit\/fluent-bit\.yaml: FluentBit\/fluent-bit spec\.image: fluent\/fluent-bit:[^ ]+ is not the fluent-operator's Fluent Bit image ghcr\.io\/fluent\/fluent-operator\/fluent-bit/},
  // 14. PodMonitor podMetricsEndpoints[].targetPort is deprecated (use port)
  {item: 14, match: /^deploy\/overlays\/cluster-\d+-(central|edge)\/fluent-bit\/pod-monitor\.yaml: PodMonitor\/fluent-bit spec\.podMetricsEndpoints\[0\]\.targetPort: deprecated field/},
]
