/** Test fixtures: fake (but well-formed) kubeadm admin.conf files. No real key material. */
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

/** Deterministic base64 that looks like certificate data. */
export function fakeB64(seed: string, bytes = 96): string {
  let out = Buffer.alloc(0)
  for (let i = 0; out.length < bytes; i++) out = Buffer.concat([out, createHash('sha256').update(`${seed}:${i}`).digest()])
  return out.subarray(0, bytes).toString('base64')
}

/** An admin.conf as kubeadm writes it (cluster `kubernetes`, user `kubernetes-admin`). */
export function adminConf(seed: string, server = 'https://10.255.0.1:6443'): string {
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${fakeB64(`${seed}-ca`)}
    server: ${server}
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${fakeB64(`${seed}-cert`)}
    client-key-data: ${fakeB64(`${seed}-key`)}
`
}

/** Files under `dir` (recursively) whose bytes contain any of `needles`. */
export function filesContaining(dir: string, needles: string[]): string[] {
  const hits: string[] = []
  const walk = (d: string) => {
    if (!existsSync(d)) return
    for (const f of readdirSync(d)) {
      const p = path.join(d, f)
      if (statSync(p).isDirectory()) walk(p)
      else {
        const text = readFileSync(p, 'latin1')
        if (needles.some((n) => n && text.includes(n))) hits.push(p)
      }
    }
  }
  walk(dir)
  return hits
}
