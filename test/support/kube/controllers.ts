/**
 * What kube-controller-manager (and a few other controllers) would do, for the resources tests
 * depend on: the ServiceAccount token controller, the namespace defaults (ServiceAccount "default",
 * ConfigMap kube-root-ca.crt), and the status a workload/Application/Node controller would write.
 */
import {createHash, randomBytes, randomUUID} from 'node:crypto'
import type {ResourceType, TypeRegistry} from './kinds.js'
import type {ObjectApi, WriteOptions} from './objects.js'
import {timestamp} from './objects.js'
import {notFound} from './status.js'
import type {Obj} from './store.js'

export const CONTROLLER_MANAGER = 'kube-controller-manager'

const b64 = (s: string) => Buffer.from(s).toString('base64')
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

export interface IssuedToken {
  namespace: string
  serviceAccount: string
  serviceAccountUid: string
  /** set for tokens stored in a kubernetes.io/service-account-token Secret */
  secretName?: string
  /** epoch ms; undefined = never */
  expires?: number
  audiences?: string[]
}

/** a JWT-shaped token with the claims kube-apiserver puts in ServiceAccount tokens (unsigned: the server looks it up) */
export function makeServiceAccountToken(issuer: string, t: IssuedToken, audiences: string[]): string {
  const iat = Math.floor(Date.now() / 1000)
  const claims: Obj = t.secretName
    ? {
        iss: 'kubernetes/serviceaccount',
        'kubernetes.io/serviceaccount/namespace': t.namespace,
        'kubernetes.io/serviceaccount/secret.name': t.secretName,
        'kubernetes.io/serviceaccount/service-account.name': t.serviceAccount,
        'kubernetes.io/serviceaccount/service-account.uid': t.serviceAccountUid,
        sub: `system:serviceaccount:${t.namespace}:${t.serviceAccount}`,
      }
    : {
        aud: audiences,
        exp: Math.floor((t.expires ?? Date.now()) / 1000),
        iat,
        iss: issuer,
        jti: randomUUID(),
        nbf: iat,
        sub: `system:serviceaccount:${t.namespace}:${t.serviceAccount}`,
        'kubernetes.io': {namespace: t.namespace, serviceaccount: {name: t.serviceAccount, uid: t.serviceAccountUid}},
      }
  const kid = createHash('sha256').update(issuer).digest('base64url').slice(0, 43)
  return `${b64url({alg: 'RS256', kid})}.${b64url(claims)}.${randomBytes(64).toString('base64url')}`
}

export function controllerOptions(): WriteOptions {
  return {manager: CONTROLLER_MANAGER, dryRun: false, fieldValidation: 'Ignore', warnings: []}
}

function findType(reg: TypeRegistry, group: string, resource: string): ResourceType {
  const t = reg.all().find((x) => x.group === group && x.resource === resource)
  if (!t) throw new Error(`resource ${resource}.${group} is not served`)
  return t
}

/** status a workload controller writes once every replica is updated, ready and available */
export function rolledOutStatus(t: ResourceType, o: Obj, readyNodes: number): Obj {
  const gen = o.metadata.generation ?? 1
  if (t.resource === 'daemonsets') {
    const n = Math.max(1, readyNodes)
    return {
      observedGeneration: gen,
      currentNumberScheduled: n,
      desiredNumberScheduled: n,
      numberMisscheduled: 0,
      numberReady: n,
      updatedNumberScheduled: n,
      numberAvailable: n,
    }
  }
  const r = o.spec?.replicas ?? 1
  if (t.resource === 'statefulsets') {
    const rev = `${o.metadata.name}-${createHash('sha1')
      .update(JSON.stringify(o.spec ?? {}))
      .digest('hex')
      .slice(0, 10)}`
    return {
      observedGeneration: gen,
      replicas: r,
      readyReplicas: r,
      currentReplicas: r,
      updatedReplicas: r,
      availableReplicas: r,
      currentRevision: rev,
      updateRevision: rev,
      collisionCount: 0,
    }
  }
  const now = timestamp()
  return {
    observedGeneration: gen,
    replicas: r,
    updatedReplicas: r,
    readyReplicas: r,
    availableReplicas: r,
    conditions: [
      {
        type: 'Available',
        status: 'True',
        lastUpdateTime: now,
        lastTransitionTime: now,
        reason: 'MinimumReplicasAvailable',
        message: 'Deployment has minimum availability.',
      },
      {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: now,
        lastTransitionTime: now,
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${o.metadata.name}" has successfully progressed.`,
      },
    ],
  }
}

export class Controllers {
  private timers = new Set<NodeJS.Timeout>()

  constructor(
    private readonly objects: ObjectApi,
    private readonly reg: TypeRegistry,
    private readonly caPem: () => string,
    private readonly issueToken: (t: IssuedToken) => string,
    private readonly tokenDelayMs: number,
  ) {}

  /** called by ObjectApi after every committed write */
  onCommitted(t: ResourceType, type: 'ADDED' | 'MODIFIED' | 'DELETED', o: Obj): void {
    if (t.group !== '') return
    if (t.resource === 'namespaces' && type === 'ADDED') this.namespaceDefaults(o.metadata.name)
    if (t.resource === 'secrets' && type !== 'DELETED' && o.type === 'kubernetes.io/service-account-token' && !o.data?.token)
      this.later(() => this.fillTokenSecret(o.metadata.namespace, o.metadata.name))
    if (t.resource === 'serviceaccounts' && type === 'ADDED') {
      for (const s of this.objects.store.list('', 'secrets', o.metadata.namespace)) {
        if (
          s.type === 'kubernetes.io/service-account-token' &&
          !s.data?.token &&
          s.metadata.annotations?.['kubernetes.io/service-account.name'] === o.metadata.name
        ) {
          this.later(() => this.fillTokenSecret(s.metadata.namespace, s.metadata.name))
        }
      }
    }
  }

  private later(fn: () => void): void {
    const tm = setTimeout(() => {
      this.timers.delete(tm)
      try {
        fn()
      } catch {
        // the object changed or went away meanwhile; a real controller would requeue
      }
    }, this.tokenDelayMs)
    this.timers.add(tm)
  }

  private namespaceDefaults(ns: string): void {
    const opts = controllerOptions()
    const sa = findType(this.reg, '', 'serviceaccounts')
    const cm = findType(this.reg, '', 'configmaps')
    if (!this.objects.store.get('', 'serviceaccounts', ns, 'default'))
      this.objects.create(sa, ns, {metadata: {name: 'default'}}, {...opts, manager: 'kube-controller-manager'})
    if (!this.objects.store.get('', 'configmaps', ns, 'kube-root-ca.crt')) {
      this.objects.create(
        cm,
        ns,
        {
          metadata: {
            name: 'kube-root-ca.crt',
            annotations: {
              'kubernetes.io/description':
                'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
            },
          },
          data: {'ca.crt': this.caPem()},
        },
        opts,
      )
    }
  }

  /** the token controller: token, ca.crt and namespace, base64, plus the SA uid annotation */
  fillTokenSecret(ns: string, name: string): void {
    const secrets = findType(this.reg, '', 'secrets')
    const s = this.objects.store.get('', 'secrets', ns, name)
    if (!s || s.data?.token || s.type !== 'kubernetes.io/service-account-token') return
    const saName = s.metadata.annotations?.['kubernetes.io/service-account.name']
    const sa = saName ? this.objects.store.get('', 'serviceaccounts', ns, saName) : undefined
    if (!sa) return // waits for the ServiceAccount, as the real controller does
    const token = this.issueToken({namespace: ns, serviceAccount: sa.metadata.name, serviceAccountUid: sa.metadata.uid, secretName: name})
    s.metadata.annotations = {...s.metadata.annotations, 'kubernetes.io/service-account.uid': sa.metadata.uid}
    s.data = {...(s.data ?? {}), token: b64(token), 'ca.crt': b64(this.caPem()), namespace: b64(ns)}
    this.objects.update(secrets, ns, name, s, controllerOptions())
  }

  tokenRequest(ns: string, saName: string, body: Obj, issuer: string): Obj {
    const sa = this.objects.store.get('', 'serviceaccounts', ns, saName)
    if (!sa) throw notFound('serviceaccounts', '', saName)
    const expirationSeconds = Number(body.spec?.expirationSeconds ?? 3600)
    const audiences: string[] = body.spec?.audiences?.length ? body.spec.audiences : ['https://kubernetes.default.svc.cluster.local']
    const expires = Date.now() + expirationSeconds * 1000
    const issued: IssuedToken = {namespace: ns, serviceAccount: saName, serviceAccountUid: sa.metadata.uid, expires, audiences}
    const token = this.issueToken(issued)
    void issuer
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: {name: saName, namespace: ns, creationTimestamp: timestamp()},
      spec: {audiences, expirationSeconds, boundObjectRef: body.spec?.boundObjectRef ?? null},
      status: {token, expirationTimestamp: timestamp(new Date(expires))},
    }
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}
