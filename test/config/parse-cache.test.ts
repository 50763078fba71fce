/**
 * The parse cache (src/lib/config/load.ts, src/lib/derived-cache.ts) stores a valid inventory's parse as
 * JSON and hands the next run JSON.parse of it: that must be the very object the schema produces, for
 * every kind of field (defaults filled in, optional fields absent rather than undefined, lists, records).
 */
import {describe, expect, it} from 'vitest'
import {parseInventory} from '../../src/lib/config/load.js'
import {exampleInventory} from '../support/inventory.js'

describe('inventory parse, as the parse cache keeps it', () => {
  it('JSON round-trips to the same object, strictly (no undefined keys, no lost types)', () => {
    const texts = [
      exampleInventory(),
      exampleInventory({
        'ssh.proxy': {https: 'http://proxy.lab:3128', noProxy: '10.0.0.0/8'},
        'clusters.cluster-02.kubernetes': '1.35',
        replicas: {prometheus: 3},
        endpoints: {grafana: 'https://grafana.example.lab'},
        alerting: {
          receivers: [{name: 'ops', email: {to: ['ops@example.lab'], from: 'am@example.lab', smarthost: 'smtp.example.lab:587'}}],
          routes: [{receiver: 'ops', severity: ['critical']}],
        },
      }),
    ]
    for (const text of texts) {
      const {platform} = parseInventory(text, '/tmp/obsctl.yaml')
      expect(JSON.parse(JSON.stringify(platform))).toStrictEqual(platform)
    }
  })
})
