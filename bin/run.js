#!/usr/bin/env node
// `@oclif/core/execute`, not the package index: the index also loads semver (48 files, for a Node
// version check this CLI's own engines field already covers), the help, ux and parser modules up front,
// ~20 ms of start-up (DESIGN.md §6). The index's other start-up check is kept here.
import {execute} from '@oclif/core/execute'

try {
  process.cwd()
} catch (error) {
  if (error.code === 'ENOENT') process.stderr.write('WARNING: current directory does not exist\n')
}

await execute({dir: import.meta.url})
