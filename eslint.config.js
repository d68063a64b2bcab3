import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Plain-JS fixtures and probes sit outside the TypeScript project that type-aware linting needs.
    ignores: [
      'dist/**',
      'build/**',
      'node_modules/**',
      'assembly/**',
      '**/*.mjs',
      'eslint.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
    },
  },
  {
    // Every benchmark module offers the same async `run`, whether or not it awaits anything.
    files: ['bench/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
);
