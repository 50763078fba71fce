/** The SSH secrets of a run (a leaf: the engine's run context carries them, ./pool.ts uses them). */

export interface Credentials {
  privateKey?: Buffer
  passphrase?: string
  agent?: string
  password?: string
}

/** Credentials and sudo password, resolved once (never persisted, never logged). */
export interface SshSecrets {
  credentials: Credentials
  sudoPassword?: string
}
