// Injected by bin/bundle.mjs into the CommonJS bundle files that use `import.meta` (esbuild's define maps
// `import.meta.url` here): the file's own URL, as the ES module had it.
export const __obsctl_import_meta_url = require('node:url').pathToFileURL(__filename).href
