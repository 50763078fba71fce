/**
 * metav1.Status bodies with the reasons and message formats the real kube-apiserver uses
 * (staging/src/k8s.io/apimachinery/pkg/api/errors). Handlers throw ApiError; the router renders it.
 */
export interface StatusCause {
  reason?: string
  message?: string
  field?: string
  type?: string
}

export interface StatusDetails {
  name?: string
  group?: string
  kind?: string
  uid?: string
  causes?: StatusCause[]
  retryAfterSeconds?: number
}

export interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, unknown>
  status: 'Success' | 'Failure'
  message?: string
  reason?: string
  details?: StatusDetails
  code: number
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message)
  }

  toStatus(): StatusBody {
    const body: StatusBody = {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code}
    if (this.details) body.details = this.details
    return body
  }
}

/** "deployments.apps" for grouped resources, "pods" for the core group, as the real messages print them. */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, {name, group: group || undefined, kind: resource})
}

export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`, {name, group: group || undefined, kind: resource})
}

export function conflict(resource: string, group: string, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": ${why}`, {
    name,
    group: group || undefined,
    kind: resource,
  })
}

export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : (c.message ?? ''))).join(', ')
  const message = `${qualifiedKind} "${name}" is invalid: ${causes.length > 1 ? `[${list}]` : list}`
  return new ApiError(422, 'Invalid', message, {name, group: group || undefined, kind, causes})
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message)
}

export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message, {})
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
  )
}

export function forbidden(user: string, verb: string, resource: string, subresource: string, group: string, namespace: string, name: string): ApiError {
  const full = subresource ? `${resource}/${subresource}` : resource
  const what = name ? `${qualifiedResource(resource, group)} "${name}"` : qualifiedResource(resource, group)
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope'
  return new ApiError(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} resource "${full}" in API group "${group}" ${scope}`, {
    name: name || undefined,
    group: group || undefined,
    kind: resource,
  })
}

export function forbiddenPath(user: string, verb: string, path: string): ApiError {
  return new ApiError(403, 'Forbidden', `forbidden: User "${user}" cannot ${verb} path "${path}"`, {})
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized')
}

export function gone(message: string): ApiError {
  return new ApiError(410, 'Expired', message)
}

export function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {})
}

export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, {causes: [{message}]})
}

export function reasonForCode(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    410: 'Expired',
    415: 'UnsupportedMediaType',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  }
  return reasons[code] ?? 'Unknown'
}
