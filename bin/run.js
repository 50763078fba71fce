#!/usr/bin/env node
// dist/main.js is @oclif/core's `execute`, bundled with the commands (bin/bundle.js) so that start-up
// reads a few files instead of hundreds (DESIGN.md §6). It is the `@oclif/core/execute` subpath, not the
// package index: the index also loads semver (for a Node version check this CLI's own engines field
// already covers), help, ux and parser modules up front. The index's other start-up check is kept here.
import {execute} from '../dist/main.js'

try {
  process.cwd()
} catch (error) {
  if (error.code === 'ENOENT') process.stderr.write('WARNING: current directory does not exist\n')
}

await execute({dir: import.meta.url})
