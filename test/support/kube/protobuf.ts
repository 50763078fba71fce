/**
 * Decoding of the Kubernetes protobuf encoding (application/vnd.kubernetes.protobuf) for request
 * bodies. kubectl's typed clients (`create namespace|secret|configmap|serviceaccount|token`) send
 * protobuf; everything else sends JSON. Only the kinds those commands send are decoded (field
 * numbers from k8s.io/api generated.proto); other protobuf bodies get 415 like an unknown type.
 * Envelope: the bytes "k8s\0", then runtime.Unknown {typeMeta=1{apiVersion=1,kind=2}, raw=2}.
 */
import {ApiError} from './status.js'
import type {Obj} from './store.js'
export type {Obj} from './store.js'

type Field = {num: number; wire: number; value: bigint | Buffer}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n
  let shift = 0n
  for (;;) {
    const b = buf[pos++]
    result |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) return [result, pos]
    shift += 7n
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = []
  let pos = 0
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos)
    pos = p1
    const num = Number(key >> 3n)
    const wire = Number(key & 7n)
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos)
      out.push({num, wire, value: v})
      pos = p2
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos)
      out.push({num, wire, value: buf.subarray(p2, p2 + Number(len))})
      pos = p2 + Number(len)
    } else if (wire === 1) {
      out.push({num, wire, value: buf.subarray(pos, pos + 8)})
      pos += 8
    } else if (wire === 5) {
      out.push({num, wire, value: buf.subarray(pos, pos + 4)})
      pos += 4
    } else throw new ApiError(400, 'BadRequest', `unsupported protobuf wire type ${wire}`)
  }
  return out
}

const str = (f: Field) => (f.value as Buffer).toString('utf8')
const bytes = (f: Field) => f.value as Buffer
const int = (f: Field) => Number(f.value as bigint)

function mapEntry(f: Field, valueAsBase64: boolean): [string, string] {
  let k = ''
  let v = ''
  for (const e of fields(bytes(f))) {
    if (e.num === 1) k = str(e)
    if (e.num === 2) v = valueAsBase64 ? bytes(e).toString('base64') : str(e)
  }
  return [k, v]
}

function objectMeta(buf: Buffer): Obj {
  const m: Obj = {}
  for (const f of fields(buf)) {
    switch (f.num) {
      case 1:
        m.name = str(f)
        break
      case 2:
        m.generateName = str(f)
        break
      case 3:
        m.namespace = str(f)
        break
      case 5:
        m.uid = str(f)
        break
      case 6:
        m.resourceVersion = str(f)
        break
      case 11: {
        const [k, v] = mapEntry(f, false)
        ;(m.labels ??= {})[k] = v
        break
      }
      case 12: {
        const [k, v] = mapEntry(f, false)
        ;(m.annotations ??= {})[k] = v
        break
      }
      case 13: {
        const r: Obj = {}
        for (const o of fields(bytes(f))) {
          if (o.num === 1) r.kind = str(o)
          if (o.num === 3) r.name = str(o)
          if (o.num === 4) r.uid = str(o)
          if (o.num === 5) r.apiVersion = str(o)
          if (o.num === 6) r.controller = int(o) === 1
          if (o.num === 7) r.blockOwnerDeletion = int(o) === 1
        }
        ;(m.ownerReferences ??= []).push(r)
        break
      }
      case 14:
        ;(m.finalizers ??= []).push(str(f))
        break
      default:
        break
    }
  }
  return m
}

function kindBody(kind: string, raw: Buffer): Obj {
  const o: Obj = {}
  for (const f of fields(raw)) {
    if (f.num === 1 && f.wire === 2 && kind !== 'TokenRequest') {
      o.metadata = objectMeta(bytes(f))
      continue
    }
    switch (kind) {
      case 'Namespace':
        if (f.num === 2)
          o.spec = {
            finalizers: fields(bytes(f))
              .filter((x) => x.num === 1)
              .map(str),
          }
        break
      case 'ConfigMap':
        if (f.num === 2) {
          const [k, v] = mapEntry(f, false)
          ;(o.data ??= {})[k] = v
        }
        if (f.num === 3) {
          const [k, v] = mapEntry(f, true)
          ;(o.binaryData ??= {})[k] = v
        }
        if (f.num === 4) o.immutable = int(f) === 1
        break
      case 'Secret':
        if (f.num === 2) {
          const [k, v] = mapEntry(f, true)
          ;(o.data ??= {})[k] = v
        }
        if (f.num === 3) o.type = str(f)
        if (f.num === 4) {
          const [k, v] = mapEntry(f, false)
          ;(o.stringData ??= {})[k] = v
        }
        if (f.num === 5) o.immutable = int(f) === 1
        break
      case 'ServiceAccount':
        if (f.num === 2)
          (o.secrets ??= []).push(
            Object.fromEntries(
              fields(bytes(f))
                .filter((x) => x.num === 3)
                .map((x) => ['name', str(x)]),
            ),
          )
        if (f.num === 4) o.automountServiceAccountToken = int(f) === 1
        break
      case 'TokenRequest':
        if (f.num === 1) o.metadata = objectMeta(bytes(f))
        if (f.num === 2) {
          const spec: Obj = {audiences: []}
          for (const s of fields(bytes(f))) {
            if (s.num === 1) spec.audiences.push(str(s))
            if (s.num === 4) spec.expirationSeconds = int(s)
            if (s.num === 3)
              spec.boundObjectRef = Object.fromEntries(fields(bytes(s)).map((b) => [['', 'kind', 'apiVersion', 'name', 'uid'][b.num] ?? `f${b.num}`, str(b)]))
          }
          o.spec = spec
        }
        break
      default:
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf ${kind} is not decoded by the test server)`,
        )
    }
  }
  return o
}

export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').startsWith('application/vnd.kubernetes.protobuf')
}

export function decodeProtobuf(body: Buffer): Obj {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new ApiError(400, 'BadRequest', 'protobuf body without the k8s\\0 prefix')
  let apiVersion = ''
  let kind = ''
  let raw: Buffer = Buffer.alloc(0)
  for (const f of fields(body.subarray(4))) {
    if (f.num === 1)
      for (const t of fields(bytes(f))) {
        if (t.num === 1) apiVersion = str(t)
        if (t.num === 2) kind = str(t)
      }
    if (f.num === 2) raw = bytes(f)
  }
  return {apiVersion, kind, ...kindBody(kind, raw)}
}
