export * from './client.js'
export * from './run.js'
