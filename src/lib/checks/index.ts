/** The one check model, its runner and its renderers (CONTRIBUTING.md "Checks"). */
export * from './model.js'
export {findingFromError, runChecks, type RunChecksOptions} from './run.js'
export {ICONS, formatChecklist, formatOutcome, outcomeLine, summaryLine, summaryText} from './render.js'
