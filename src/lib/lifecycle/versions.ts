/**
 * Kubernetes versions as upgrades compare them (kubeadm's skew rules): one minor at a time, never down,
 * a kubelet never newer than its API server. A target may name a minor (`1.35`: the newest patch the
 * package repository has) or a release (`1.35.2`).
 */
import {inputError} from '../errors.js'

export interface Version {
  major: number
  minor: number
  /** absent for a minor-only target */
  patch?: number
}

/** `v1.35.2`, `1.35.2`, `1.35`, `1.35.2-1.1` (a package version); undefined when it is none of these */
export function parseVersion(s: string | undefined): Version | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$/.exec((s ?? '').trim())
  if (!m) return undefined
  return {major: Number(m[1]), minor: Number(m[2]), ...(m[3] !== undefined ? {patch: Number(m[3])} : {})}
}

/** The target of `upgrade kubernetes VERSION`: bad input (exit 2) unless it reads as a version. */
export function parseTarget(s: string): Version {
  const v = parseVersion(s)
  if (!v || /^v/.test(s) || /-/.test(s))
    throw inputError(`${JSON.stringify(s)} is not a Kubernetes version`, ['VERSION is a minor (1.35: its newest patch) or a release (1.35.2)'], 'BAD_VERSION')
  return v
}

export const minorOf = (v: Version) => `${v.major}.${v.minor}`
export const formatVersion = (v: Version) => (v.patch === undefined ? minorOf(v) : `${minorOf(v)}.${v.patch}`)

/** <0, 0, >0; a missing patch counts as 0 */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || (a.patch ?? 0) - (b.patch ?? 0)
}

/** A running version (v1.35.2) is the target: the same release, or the same minor for a minor-only target. */
export function isAt(running: string | undefined, target: Version): boolean {
  const v = parseVersion(running)
  if (!v) return false
  return target.patch === undefined ? v.major === target.major && v.minor === target.minor : compareVersions(v, target) === 0
}

/** Why the control plane at `current` cannot go to `target` in one step (undefined: it can, or it is there). */
export function stepProblem(current: Version, target: Version): string | undefined {
  if (current.major !== target.major) return `cannot change the major version (${formatVersion(current)} → ${formatVersion(target)})`
  if (target.minor < current.minor || (target.minor === current.minor && target.patch !== undefined && compareVersions(target, current) < 0)) {
    return `the control plane runs v${formatVersion(current)}: kubeadm does not downgrade to ${formatVersion(target)}`
  }
  if (target.minor > current.minor + 1)
    return `the control plane runs v${formatVersion(current)}: Kubernetes upgrades one minor at a time; upgrade to ${current.major}.${current.minor + 1} first`
  return undefined
}
