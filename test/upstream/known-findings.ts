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
]
