// The slice of s3rver 3.x (no published types) the S3 tests use.
declare module 's3rver' {
  import type {AddressInfo} from 'node:net'
  interface S3rverOptions {
    address?: string
    port?: number
    silent?: boolean
    directory?: string
    resetOnClose?: boolean
    allowMismatchedSignatures?: boolean
    vhostBuckets?: boolean
    key?: string | Buffer
    cert?: string | Buffer
    configureBuckets?: {name: string; configs?: (string | Buffer)[]}[]
  }
  export default class S3rver {
    constructor(options?: S3rverOptions)
    run(): Promise<AddressInfo>
    close(): Promise<void>
  }
}
declare module 's3rver/lib/models/account.js' {
  interface Account {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void
    revokeAccessKey(accessKeyId: string): void
  }
  const AWSAccount: {DUMMY_ACCOUNT: Account}
  export default AWSAccount
}
