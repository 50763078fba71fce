/** Shared per-run resources (SSH pools, kube clients, …), all closed when the run ends. */
import type {RunResources} from './types.js'

type Closer = () => Promise<void> | void

export class Resources implements RunResources {
  private readonly values = new Map<string, unknown>()
  private readonly pending = new Map<string, Promise<unknown>>()
  private readonly closers: {key: string; close: Closer}[] = []

  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined
  }

  set<T>(key: string, value: T, close?: (value: T) => Promise<void> | void): T {
    this.values.set(key, value)
    if (close) this.closers.push({key, close: () => close(value)})
    return value
  }

  async getOrCreate<T>(key: string, create: () => Promise<T> | T, close?: (value: T) => Promise<void> | void): Promise<T> {
    if (this.values.has(key)) return this.values.get(key) as T
    let p = this.pending.get(key) as Promise<T> | undefined
    if (!p) {
      p = Promise.resolve().then(create)
      this.pending.set(key, p)
      p.then(
        (v) => {
          this.set(key, v, close)
          this.pending.delete(key)
        },
        () => this.pending.delete(key),
      )
    }
    return p
  }

  /** Close everything, newest first; errors are collected, never thrown past the others. */
  async closeAll(): Promise<string[]> {
    await Promise.allSettled([...this.pending.values()])
    const errors: string[] = []
    for (const {key, close} of this.closers.splice(0).reverse()) {
      try {
        await close()
      } catch (e) {
        errors.push(`${key}: ${(e as Error).message}`)
      }
    }
    this.values.clear()
    return errors
  }
}
