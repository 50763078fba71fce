/** Shared bits of the kube test server's own tests. */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {which} from '../support/peers.js'

export const KUBECTL = which('kubectl')

export function tempDir(prefix = 'kube-server-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

/** kubectl with its own HOME and discovery cache, never the user's ~/.kube */
export async function kubectl(dir: string, kubeconfig: string, args: string[], input?: string) {
  return execa(KUBECTL!, ['--cache-dir', join(dir, 'cache'), ...args], {
    env: {KUBECONFIG: kubeconfig, HOME: dir, PATH: process.env.PATH ?? '/usr/bin:/bin'}, extendEnv: false, reject: false, input, timeout: 30_000,
  })
}

export function widgetCrd(opts: {status?: boolean} = {}): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: {name: 'widgets.example.com'},
    spec: {group: 'example.com', scope: 'Namespaced', names: {plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd']},
      versions: [{name: 'v1', served: true, storage: true, ...(opts.status === false ? {} : {subresources: {status: {}}}),
        schema: {openAPIV3Schema: {type: 'object', properties: {
          spec: {type: 'object', required: ['size'], properties: {size: {type: 'integer'}, color: {type: 'string'}, extra: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}},
          status: {type: 'object', properties: {phase: {type: 'string'}}},
        }}}}]},
  }
}

export const MULTI_DOC = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer}
              color: {type: string}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: demo}
spec: {size: 3, color: blue}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: demo, labels: {app: demo}}
data: {mode: fast}
`

export function writeFile(dir: string, name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
