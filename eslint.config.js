// ESLint: the recommended rules plus the project's layers (../shared/STYLE.md, README "Development").
// `npm run lint`; `npm run check` runs it with the type-check, Prettier's check and the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './eslint/layers.js';

const terminalLibs = '^(chalk|ora|cli-table3|@inquirer/[^/]+)(/|$)';
const heavyModules =
  '^(onnxruntime-node|better-sqlite3|undici|prom-client|@kubernetes/client-node|@duckdb/node-api|yaml|protobufjs|onnx-proto)(/|$)';

const messages = {
  core: 'src/core is pure: no node built-ins, network, native or terminal packages (semver is its one package)',
  terminal: 'only src/terminal/ imports chalk, ora, cli-table3 and @inquirer/*: use its style, table, spinner, prompt',
  heavy: 'load heavy modules inside the action (`await import(…)`) so other commands start fast; `import type` is fine',
};

/** The package rules of one part of src/ (flat config replaces a rule's options, it does not merge them). */
function packageRules({ core = false, terminal = true, heavy = false }) {
  const patterns = [];
  const dynamic = [];
  if (core) {
    patterns.push({ regex: '^(?!\\.|semver(/|$))', message: messages.core });
    dynamic.push({ selector: 'ImportExpression[source.value=/^[^.]/]', message: messages.core });
  } else {
    if (terminal) {
      patterns.push({ regex: terminalLibs, message: messages.terminal });
      dynamic.push({
        selector: 'ImportExpression[source.value=/^(chalk|ora|cli-table3|@inquirer.)/]',
        message: messages.terminal,
      });
    }
    if (heavy) patterns.push({ regex: heavyModules, allowTypeImports: true, message: messages.heavy });
  }
  return {
    'no-restricted-imports': 'off',
    '@typescript-eslint/no-restricted-imports': patterns.length ? ['error', { patterns }] : 'off',
    'no-restricted-syntax': dynamic.length ? ['error', ...dynamic] : 'off',
  };
}

export default tseslint.config(
  // Generated files (test/stats/reference-values.generated.ts) are checked by re-running their script.
  { ignores: ['dist/', 'coverage/', 'fixtures/', 'bench/out/', 'templates/', 'node_modules/', '**/*.generated.ts'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      // The globals of the Node that runs the linter: the scripts and benchmarks run on it.
      globals: Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly'])),
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // `typeof import('ora')` names the type of a module that is loaded lazily, which is the point.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // `import { type A } from 'x'` still loads x (verbatimModuleSyntax); `import type` does not.
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },
  {
    // Type-aware, for src/ only and only the rules that catch real bugs (a forgotten await, a promise
    // where a callback is expected): the whole tree still lints in about 15 s on two cores.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { mlv: layers },
    rules: {
      ...packageRules({}),
      'mlv/layers': [
        'error',
        {
          allow: [
            // TODO(registry): the smoke runner takes what it uses (cwd, signal, spinner, warn), not the Context.
            ['smoke/run.ts', 'context.ts'],
            ['smoke/inputs.ts', 'context.ts'],
          ],
        },
      ],
    },
  },
  { files: ['src/core/**/*.ts'], rules: packageRules({ core: true }) },
  { files: ['src/terminal/**/*.ts'], rules: packageRules({ terminal: false }) },
  {
    files: ['src/commands/**/*.ts', 'src/program.ts', 'src/main.ts', 'src/run.ts'],
    rules: packageRules({ heavy: true }),
  },
  {
    // The coefficients are quoted with all the digits of the published tables they come from (each
    // file names its source); the digits past double precision are the reference's, not a bug.
    files: ['src/core/stats/**/*.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
  {
    // TODO(reader): the hot-path scanners write `((key = 7), (j = ka + 4))` statements and assign
    // `c` ahead of loops; braces and a later declaration would let these rules hold there too.
    files: ['src/io/events/json.ts', 'src/io/events/csv.ts', 'src/io/events/numbers.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off', 'no-useless-assignment': 'off' },
  },
  {
    // Tests strip ANSI escapes with regular expressions and read JSON bodies without declaring them.
    files: ['test/**/*.ts'],
    rules: { 'no-control-regex': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
