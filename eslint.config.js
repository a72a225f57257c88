// Lint: typed rules that catch what tests miss (floating promises above all), plus the layer
// boundaries of DESIGN.md §3 (also checked by test/architecture.test.ts).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', '.tmp/', 'artifacts/', 'bin/', 'types/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/sdk/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'http', 'net', 'child_process', 'crypto'], message: 'core and sdk do no I/O: go through a port.' },
            { group: ['../app/*', '../store/*', '../sandbox/*', '../capabilities/*', '../server/*', '../cli/*'], message: 'imports point down the layers (DESIGN.md §3).' },
          ],
        },
      ],
    },
  },
  {
    // node:test's describe/test return promises the runner itself awaits.
    files: ['**/*.test.ts', 'src/store/conformance/**/*.ts'],
    // Test doubles implement async interfaces without awaiting anything.
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/require-await': 'off' },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
