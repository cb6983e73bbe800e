// GraphQL Code Generator: typed documents for the web UI from the server's printed schema.
// `pnpm codegen` (also run by `pnpm build`) writes web/src/lib/gql/, which is generated, not committed.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'server/schema.graphql',
  // Operations live in web/src/lib/graphql/*.ts, written with `graphql()` from the generated module.
  documents: ['web/src/**/*.{ts,svelte}', '!web/src/lib/gql/**'],
  ignoreNoDocuments: false,
  // ESM-style relative imports with `.js` in the generated files (fine for Vite and NodeNext alike).
  emitLegacyCommonJSImports: false,
  generates: {
    'web/src/lib/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        skipTypename: false,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        scalars: { ID: 'string', DateTime: 'string' },
      },
    },
  },
};

export default config;
