// Type-aware linting for the whole project (typescript-eslint's recommended type-checked rules).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'packages/', 'cdk.out/', 'out/', '.lab/', 'bin/*.js', '**/*.mjs', 'vitest.config.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    // bin/egresshub.js runs the CLI through tsx's CommonJS hook only: a dynamic import() of one of our .ts
    // modules is resolved by Node's ESM loader without tsx and fails at run time (vitest would not notice).
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/^\\./]',
          message: 'use a static import: bin/egresshub.js cannot resolve a dynamic import of a .ts module',
        },
      ],
    },
  },
  {
    // The hub's constructs narrow on the plan's fleet mode and check lookups instead of forcing them with `!`:
    // a missing value is a clear error at synth, not an undefined deep inside a template.
    files: ['src/hub/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'error' },
  },
  {
    // The terminal sanitiser and the tests that prove it exist to match control characters.
    files: ['src/untrusted/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off', '@typescript-eslint/no-unsafe-member-access': 'off' },
  },
);
