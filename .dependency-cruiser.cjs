// Layer rules (npm run lint; CONTRIBUTING.md "Layers and lint"): commands → flows → domains → platform / engine /
// config → errors. A rule broken here is an import in the wrong direction, not a style question. There is no
// baseline of tolerated violations: every one fails npm run lint. A domain that needs to run a flow does not
// import it: the flow's driver (src/lib/flows/*-run.ts) does the run and the command calls the driver.
const DOMAINS = '^src/lib/(alerts|argocd|fleet|gitops|kube|nodes|opensearch|s3|ssh|status|validate|lifecycle|diagnose|checks)/'
module.exports = {
  forbidden: [
    {name: 'no-circular', severity: 'error', from: {path: '^src/'}, to: {circular: true}},
    {name: 'lib-not-commands', comment: 'src/lib never imports a command', severity: 'error', from: {path: '^src/lib/'}, to: {path: '^src/commands/'}},
    {name: 'commands-not-commands', comment: 'commands share code through src/lib, not through each other', severity: 'error', from: {path: '^src/commands/'}, to: {path: '^src/commands/'}},
    {name: 'domains-not-flows', comment: 'a flow lists phases of domains; a domain never reaches up into a flow', severity: 'error', from: {path: DOMAINS}, to: {path: '^src/lib/flows/'}},
    {name: 'foundation-not-up', comment: 'platform, engine and config are below every domain and flow (type-only imports of a domain\'s data shapes excepted)', severity: 'error', from: {path: '^src/lib/(platform|engine|config)/'}, to: {path: `${DOMAINS}|^src/lib/(flows|cli)/`, dependencyTypesNot: ['type-only']}},
    {name: 'errors-at-the-bottom', severity: 'error', from: {path: '^src/lib/errors\\.ts$'}, to: {path: '^src/'}},
    {name: 'lib-no-prompt-library', comment: 'questions go through the prompt port (src/lib/prompt.ts); only the terminal adapter imports inquirer', severity: 'error', from: {path: '^src/lib/', pathNot: '^src/lib/cli/terminal-prompter\\.ts$'}, to: {path: '@inquirer/'}},
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
  },
}
