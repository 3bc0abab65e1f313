import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/', 'dist/', 'coverage/', 'node_modules/', 'bench/results/', 'integrations/*/out/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': [
        'error',
        { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true },
      ],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      // Type-only imports stay type-only (the VS Code extension's CommonJS build rules out verbatimModuleSyntax).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: [
      'main/**/*.ts',
      'preload/**/*.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'integrations/**/*.ts',
      '*.config.ts',
      'bin/**/*.js',
      'eslint.config.js',
      'test/**/*.mjs',
    ],
    languageOptions: { globals: globals.node },
  },
  {
    // Core, API and CLI run in plain Node: Electron may only appear in main/desktop (its entry included) and the preload.
    files: ['main/**/*.ts'],
    ignores: ['main/desktop/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['electron', 'electron-store', 'electron-updater'], patterns: ['**/desktop/*'] },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}', 'test/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js', 'test/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['test/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    files: ['test/**/*.ts', 'test/**/*.tsx'],
    rules: {
      // Tests read JSON bodies they just asserted the shape of.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // expect.any() and friends are typed any by vitest.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
