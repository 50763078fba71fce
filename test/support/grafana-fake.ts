/**
 * Grafana stand-in for the parts of its HTTP API obsctl uses, shapes as Grafana 11 answers them (checked with
 * the search tool against grafana.com's HTTP API reference — User API "Change Password", Admin API "Set
 * password for user" — and Grafana's ChangeUserPasswordCommand {oldPassword, newPassword}):
 *   GET /api/user                     the signed-in user ({id, uid, email, name, login, orgId, isGrafanaAdmin, …})
 *   PUT /api/user/password            {oldPassword, newPassword, confirmNew}: 200 {message: "User password changed"},
 *                                     401 {message: "Invalid old password"}, 400 {message: "New password is too short"}
 *   PUT /api/admin/users/:id/password {password}: 200 {message: "User password updated"} (Grafana admins only)
 * Basic auth on every request; a wrong one is 401 {message: "Invalid username or password", messageId:
 * "password-auth.failed", statusCode: 401, traceID: ""}. Passwords are kept as the database would (here plain).
 */
import {startFake, type FakeRequest, type FakeServer} from './http-fake.js'

export interface GrafanaUser {
  id: number
  password: string
  isGrafanaAdmin: boolean
}

export interface GrafanaFake extends FakeServer {
  users: Record<string, GrafanaUser>
  /** every password change that succeeded: who, and through which endpoint */
  passwordChanges: {login: string; endpoint: string}[]
}

/** `tls`: serve https (obsctl sends Grafana's admin password over verified https only; test/support/platform-tls.ts) */
export async function startGrafanaFake(opts: {adminPassword: string; tls?: {cert: string; key: string}}): Promise<GrafanaFake> {
  let self!: GrafanaFake
  const who = (req: FakeRequest): string | undefined => {
    const m = typeof req.headers.authorization === 'string' ? /^Basic (.+)$/.exec(req.headers.authorization) : null
    if (!m) return undefined
    const raw = Buffer.from(m[1]!, 'base64').toString('utf8')
    const i = raw.indexOf(':')
    const u = i > 0 ? self.users[raw.slice(0, i)] : undefined
    return u && u.password === raw.slice(i + 1) ? raw.slice(0, i) : undefined
  }
  const unauthorized = {status: 401, json: {message: 'Invalid username or password', messageId: 'password-auth.failed', statusCode: 401, traceID: ''}}
  const created = new Date(Date.now() - 86_400_000).toISOString()
  const fake = await startFake(
    [
      [
        'GET',
        /^\/api\/user$/,
        (req) => {
          const login = who(req)
          if (!login) return unauthorized
          const u = self.users[login]!
          return {
            json: {
              id: u.id,
              uid: `u${u.id}`,
              email: `${login}@localhost`,
              name: '',
              login,
              theme: '',
              orgId: 1,
              isGrafanaAdmin: u.isGrafanaAdmin,
              isDisabled: false,
              isExternal: false,
              isExternallySynced: false,
              isGrafanaAdminExternallySynced: false,
              authLabels: [],
              updatedAt: created,
              createdAt: created,
              avatarUrl: '/avatar/46d229b033af06a191ff2267bca9ae56',
              isProvisioned: false,
            },
          }
        },
      ],
      [
        'PUT',
        /^\/api\/user\/password$/,
        (req) => {
          const login = who(req)
          if (!login) return unauthorized
          const body = JSON.parse(req.body || '{}') as {oldPassword?: string; newPassword?: string}
          if (body.oldPassword !== self.users[login]!.password) return {status: 401, json: {message: 'Invalid old password'}}
          if (!body.newPassword || body.newPassword.length < 4) return {status: 400, json: {message: 'New password is too short'}}
          self.users[login]!.password = body.newPassword
          self.passwordChanges.push({login, endpoint: 'PUT /api/user/password'})
          return {json: {message: 'User password changed'}}
        },
      ],
      [
        'PUT',
        /^\/api\/admin\/users\/(\d+)\/password$/,
        (req) => {
          const login = who(req)
          if (!login) return unauthorized
          if (!self.users[login]!.isGrafanaAdmin) return {status: 403, json: {message: 'Permission denied'}}
          const target = Object.entries(self.users).find(([, u]) => u.id === Number(req.params[0]))
          if (!target) return {status: 404, json: {message: 'user not found'}}
          const body = JSON.parse(req.body || '{}') as {password?: string}
          if (!body.password || body.password.length < 4) return {status: 400, json: {message: 'New password is too short'}}
          target[1].password = body.password
          self.passwordChanges.push({login: target[0], endpoint: 'PUT /api/admin/users/:id/password'})
          return {json: {message: 'User password updated'}}
        },
      ],
    ],
    {tls: opts.tls},
  )
  self = Object.assign(fake, {users: {admin: {id: 1, password: opts.adminPassword, isGrafanaAdmin: true}}, passwordChanges: []})
  return self
}
