// Lint rules, run by `npm test` (npm run lint). typescript-eslint's recommended set without type
// information (fast: no program is built); type escapes are errors unless a line says why.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'gitops/**', 'templates/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.{ts,mjs}', 'bench/**/*.{js,ts}', 'bin/**/*.{js,mjs}'],
    languageOptions: {globals: {process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', performance: 'readonly', crypto: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'writable', global: 'readonly', globalThis: 'readonly'}},
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'}],
      'no-empty': ['error', {allowEmptyCatch: true}],
      // a fake's handlers refer to the fake object assigned once after them
      'prefer-const': ['error', {ignoreReadBeforeAssign: true}],
    },
  },
  // CommonJS (bin/package.json): the runner, so that no ES module loader starts, and the snippet esbuild
  // injects into the CommonJS bundle (bin/bundle.mjs); the build scripts beside them are .mjs
  {files: ['bin/**/*.js'], languageOptions: {sourceType: 'commonjs', globals: {__filename: 'readonly'}}, rules: {'@typescript-eslint/no-require-imports': 'off'}},
)
