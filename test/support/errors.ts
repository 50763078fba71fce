/** What a failed obsctl call threw: the test fails unless it is an ObsctlError (a resolved promise included). */
import {expect} from 'vitest'
import {ObsctlError} from '../../src/lib/errors.js'

export async function rejection(p: Promise<unknown>): Promise<ObsctlError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(ObsctlError)
  return e as ObsctlError
}
