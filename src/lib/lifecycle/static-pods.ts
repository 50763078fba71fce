/**
 * Stopping and starting a kubeadm control plane's static pods on one node, the way the Kubernetes
 * documentation describes it for certificate renewal ("temporarily remove the manifest file from
 * /etc/kubernetes/manifests/"): the kubelet watches that folder, so moving a manifest out stops the pod
 * and moving it back starts it again. obsctl never sleeps for luck: after each move it polls the
 * container runtime (`crictl ps --name POD -q`, cri-tools, installed with kubeadm) until the container
 * is gone, or until a container with a new id runs.
 *
 * A parked manifest waits in /etc/kubernetes/obsctl-parked-manifests/; a run that was killed between
 * the two moves leaves it there, and the next run moves it back first (nothing is lost).
 */
import {sleepOrInterrupt as sleep} from '../async.js'
import {ObsctlError} from '../errors.js'
import {rootStep, type RootShell} from '../nodes/lock.js'
import {pollMs} from '../poll.js'

/** Static pods of a kubeadm control plane, in the order they are restarted (etcd last: the API server retries it). */
export const CONTROL_PLANE_PODS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'] as const
export type ControlPlanePod = (typeof CONTROL_PLANE_PODS)[number]

export const MANIFESTS_DIR = '/etc/kubernetes/manifests'
export const PARKED_DIR = '/etc/kubernetes/obsctl-parked-manifests'

export interface PodWaitOptions {
  /** how long one pod may take to stop or to start (default 300 s) */
  timeoutMs?: number
  /** poll interval (default 1 s) */
  intervalMs?: number
  signal?: AbortSignal
  log?: (line: string) => void
}

/** Ids of the running containers of a static pod (empty when it is stopped). */
export async function runningContainers(conn: RootShell, pod: ControlPlanePod, signal?: AbortSignal): Promise<string[]> {
  const out = await rootStep(conn, `crictl ps --state running --name '^${pod}$' -q`, `crictl ps (${pod})`, {
    signal,
    code: 'CRICTL',
    hints: ['obsctl reads the control-plane containers with crictl (package cri-tools, installed with kubeadm); check `sudo crictl ps` on the node'],
  })
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
}

async function waitFor(conn: RootShell, pod: ControlPlanePod, what: string, done: (ids: string[]) => boolean, o: PodWaitOptions): Promise<string[]> {
  const deadline = Date.now() + (o.timeoutMs ?? 300_000)
  for (;;) {
    const ids = await runningContainers(conn, pod, o.signal)
    if (done(ids)) return ids
    if (Date.now() > deadline) {
      throw new ObsctlError(`${pod} on ${conn.label} did not ${what} within ${Math.round((o.timeoutMs ?? 300_000) / 1000)} s`, {
        code: 'STATIC_POD_TIMEOUT',
        hints: [
          `check the kubelet on the node: journalctl -u kubelet; its manifest is in ${MANIFESTS_DIR} or ${PARKED_DIR}`,
          'rerun: a parked manifest is moved back first',
        ],
      })
    }
    await sleep(o.intervalMs ?? pollMs(1000), o.signal)
  }
}

/** Move a pod's manifest out of the kubelet's folder and wait until its container is gone. */
export async function stopStaticPod(conn: RootShell, pod: ControlPlanePod, o: PodWaitOptions = {}): Promise<void> {
  const m = `${MANIFESTS_DIR}/${pod}.yaml`
  const parked = `${PARKED_DIR}/${pod}.yaml`
  await rootStep(
    conn,
    `mkdir -p ${PARKED_DIR} && chmod 700 ${PARKED_DIR} && if [ -f ${m} ]; then mv ${m} ${parked}; elif [ ! -f ${parked} ]; then echo "no manifest ${m}" >&2; exit 1; fi`,
    `parking ${pod}'s manifest`,
    {
      signal: o.signal,
      code: 'STATIC_POD_MANIFEST',
      hints: [`is this a kubeadm control-plane node? ${MANIFESTS_DIR}/${pod}.yaml is missing`],
    },
  )
  o.log?.(`${pod}: manifest moved to ${PARKED_DIR}; waiting for the kubelet to stop it`)
  await waitFor(conn, pod, 'stop', (ids) => ids.length === 0, o)
  o.log?.(`${pod}: stopped`)
}

/** Move a parked manifest back and wait until a container that was not running before runs. */
export async function startStaticPod(conn: RootShell, pod: ControlPlanePod, before: string[], o: PodWaitOptions = {}): Promise<string> {
  const m = `${MANIFESTS_DIR}/${pod}.yaml`
  const parked = `${PARKED_DIR}/${pod}.yaml`
  await rootStep(
    conn,
    `if [ -f ${parked} ]; then mv ${parked} ${m}; elif [ ! -f ${m} ]; then echo "no manifest ${m}" >&2; exit 1; fi`,
    `restoring ${pod}'s manifest`,
    {signal: o.signal, code: 'STATIC_POD_MANIFEST'},
  )
  o.log?.(`${pod}: manifest back in ${MANIFESTS_DIR}; waiting for a new container`)
  const ids = await waitFor(conn, pod, 'start a new container', (x) => x.some((id) => !before.includes(id)), o)
  const id = ids.find((x) => !before.includes(x))!
  o.log?.(`${pod}: running (container ${id})`)
  return id
}

/** Manifests a killed run left parked: moved back first, so the node is whole again before anything else. */
export async function unparkAll(conn: RootShell, o: PodWaitOptions = {}): Promise<string[]> {
  // with the log: the first step on the node, where a wait for another obsctl step there is said
  const out = await rootStep(conn, `[ -d ${PARKED_DIR} ] && ls ${PARKED_DIR} || true`, 'listing parked manifests', {signal: o.signal, log: o.log})
  const parked = CONTROL_PLANE_PODS.filter((p) => out.split('\n').includes(`${p}.yaml`))
  for (const p of parked) {
    o.log?.(`${p}: its manifest was left parked by an interrupted run; moving it back`)
    await startStaticPod(conn, p, [], o)
  }
  return parked
}

/** Restart one static pod: stop (manifest out), then start (manifest back, a new container runs). */
export async function restartStaticPod(conn: RootShell, pod: ControlPlanePod, o: PodWaitOptions = {}): Promise<string> {
  const before = await runningContainers(conn, pod, o.signal)
  await stopStaticPod(conn, pod, o)
  return startStaticPod(conn, pod, before, o)
}
