/** Shared bits of the kube test server's own tests. */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {which} from '../support/peers.js'
import type {Loose} from '../support/kube/store.js'

export const KUBECTL = which('kubectl')

export function tempDir(prefix = 'kube-server-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

/** kubectl with its own HOME and discovery cache, never the user's ~/.kube */
export async function kubectl(dir: string, kubeconfig: string, args: string[], input?: string) {
  return execa(KUBECTL!, ['--cache-dir', join(dir, 'cache'), ...args], {
    env: {KUBECONFIG: kubeconfig, HOME: dir, PATH: process.env.PATH ?? '/usr/bin:/bin'},
    extendEnv: false,
    reject: false,
    input,
    timeout: 30_000,
  })
}

export function widgetCrd(opts: {status?: boolean} = {}): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {name: 'widgets.example.com'},
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: {plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd']},
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          ...(opts.status === false ? {} : {subresources: {status: {}}}),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['size'],
                  properties: {size: {type: 'integer'}, color: {type: 'string'}, extra: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}},
                },
                status: {type: 'object', properties: {phase: {type: 'string'}}},
              },
            },
          },
        },
      ],
    },
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

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: Loose
}

/** a plain HTTPS request to a test server (verifying its CA), as `user` (token) */
export async function call(
  kube: {url: string; caPem: string; credentials(u?: string): {token: string}},
  method: string,
  path: string,
  body?: unknown,
  opts: {contentType?: string; user?: string; token?: string} = {},
): Promise<RawResponse> {
  const {request} = await import('node:https')
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  const url = new URL(path, kube.url)
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: kube.caPem,
        headers: {
          Authorization: `Bearer ${opts.token ?? kube.credentials(opts.user).token}`,
          Accept: 'application/json',
          ...(payload !== undefined ? {'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload)} : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: Loose
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({status: res.statusCode ?? 0, headers: res.headers, text, json})
        })
      },
    )
    req.on('error', reject)
    if (payload !== undefined) req.write(payload)
    req.end()
  })
}

/** polls until fn returns a truthy value (no fixed sleeps) */
export async function until<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
