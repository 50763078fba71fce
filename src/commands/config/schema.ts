import {BaseCommand} from '../../lib/cli/base.js'
import {jsonSchema} from '../../lib/config/schema.js'

export default class ConfigSchema extends BaseCommand {
  static override summary = "Print the inventory's JSON Schema (for editors' YAML language servers)."
  static override examples = [
    '<%= config.bin %> config schema > .obsctl/schema.json',
    '# then in obsctl.yaml:  # yaml-language-server: $schema=./.obsctl/schema.json',
  ]

  async run(): Promise<Record<string, unknown>> {
    // it takes no flag of its own, but refuses one it does not know (`--ouput`), as every command does
    await this.parse(ConfigSchema)
    const schema = jsonSchema()
    if (!this.jsonEnabled()) process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`)
    return schema
  }
}
