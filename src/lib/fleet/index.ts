export * from './list.js'
export * from './change.js'
