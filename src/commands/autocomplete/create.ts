/** `obsctl autocomplete create` (hidden): @oclif/plugin-autocomplete's cache builder, bundled with the CLI. */
import Create from '@oclif/plugin-autocomplete/lib/commands/autocomplete/create.js'

export default Create
