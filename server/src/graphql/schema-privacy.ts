// What the schema tells a caller who has not signed in: nothing beyond answers to its queries.
// Introspection (`__schema`, `__type`) is refused and "Did you mean …?" suggestions are cut
// from validation and variable errors, so an anonymous client cannot map the API; signed-in
// callers (any role, session or API token) keep both for codegen and GraphQL tools.
// `__typename` stays allowed for everyone (urql adds it to every selection).
import { isIntrospectionType, type GraphQLError, type GraphQLNamedType, type GraphQLType, type ValidationRule } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

// By shape, not instanceof: the validator may come from another copy of the graphql module than the schema.
function namedType(type: GraphQLType): GraphQLNamedType {
  let inner: unknown = type;
  while ((inner as { ofType?: unknown }).ofType) inner = (inner as { ofType: unknown }).ofType;
  return inner as GraphQLNamedType;
}

/** Refuses fields whose type is an introspection type: `__schema`, `__type` (and anything nested there). */
export const anonymousIntrospection: ValidationRule = function anonymousIntrospection(context) {
  return {
    Field(node) {
      const type = context.getType();
      if (type && isIntrospectionType(namedType(type))) {
        context.reportError(
          createGraphQLError(`Introspection (${node.name.value}) needs a signed-in user or an API token`, {
            nodes: node,
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          }),
        );
        return false; // one error per introspection field, not one per field beneath it
      }
      return undefined;
    },
  };
};

// graphql-js appends ` Did you mean "a", "b", or "c"?` (or `the enum value "X"?`); names hold no "?".
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

export function withoutSuggestions(original: Error): GraphQLError | Error {
  const message = original.message.replace(SUGGESTION, '');
  if (message === original.message) return original;
  const error = original as Partial<GraphQLError>;
  return createGraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions ?? {},
  });
}

/**
 * `signedIn` answers for the context validation runs with (over HTTP yoga validates before it
 * builds our context, so it must be answerable from the request alone) and for the execution
 * context. Variable errors (an enum value misspelt in a variable) come from execution, hence both.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function schemaPrivacy(signedIn: (context: any) => boolean): Plugin<any> {
  return {
    onValidate({ context, addValidationRule }) {
      if (signedIn(context)) return;
      addValidationRule(anonymousIntrospection);
      return ({ result, setResult }) => {
        if (result.length) setResult(result.map(withoutSuggestions));
      };
    },
    onExecute({ args }) {
      if (signedIn(args.contextValue)) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || !result.errors?.length) return;
          setResult({ ...result, errors: result.errors.map(withoutSuggestions) });
        },
      };
    },
  };
}
