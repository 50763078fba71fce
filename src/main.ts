/**
 * What bin/run.js runs: @oclif/core's runner. bin/bundle.mjs bundles this module and every command
 * with shared chunks, so the runner and the commands use one copy of @oclif/core.
 */
export {execute} from '@oclif/core/execute'
