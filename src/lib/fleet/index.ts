export * from './list.js'
export * from './change.js'
export * from './add.js'
