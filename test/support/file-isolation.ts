/**
 * Setup file (vitest.config.ts `setupFiles`, first): each test file leaves its worker as it found it.
 *
 * The workers are not isolated (`isolate: false`): a fork runs file after file and keeps the modules it
 * loaded, instead of a fresh fork per file loading vitest, the helpers and obsctl's sources again (~0.4 s of
 * CPU per file, measured on the 70 lightest files: 56.7 s of machine CPU isolated, 27.8 s not). What a file
 * changes in the process would then reach the files after it, in whichever fork they land, so this file
 * undoes it when the file ends: the environment (tests set KUBECONFIG, credentials and `p.env` in their hooks
 * and a few never unset them), the working folder, `vi.stubEnv`/`vi.stubGlobal`, fake timers, and signal
 * listeners a command under test left on the process. A setup file runs again before every test file, so
 * the snapshot below is taken before each file's own code.
 */
import {afterAll} from 'vitest'
import {snapshotProcess} from './process-snapshot.js'

afterAll(snapshotProcess())
