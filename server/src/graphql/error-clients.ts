// Which client an unexpected error came from, for the error log's per-client bound
// (infra/error-log-throttle.ts). yoga's maskError sees only the error, so this plugin marks
// each error of a result with its caller before the masking plugin (later in the list) runs.
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import type { Context } from './context.js';

/** A signed-in caller is one client wherever it connects from; anonymous ones are told apart by address. */
export function clientKey(context: Partial<Context> | undefined): string | null {
  if (context?.identity) return `user ${context.identity.user.id}`;
  return context?.clientAddress ? `address ${context.clientAddress}` : null;
}

export function errorClients() {
  const clients = new WeakMap<object, string>();
  const mark = (errors: readonly unknown[] | undefined, context: Partial<Context>) => {
    const client = clientKey(context);
    if (!client) return;
    for (const error of errors ?? []) if (typeof error === 'object' && error !== null) clients.set(error, client);
  };
  const markResult = (context: Partial<Context>) => (payload: { result: ExecutionResult }) => mark(payload.result.errors, context);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const plugin: Plugin<any> = {
    onExecute({ args }) {
      return { onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, markResult(args.contextValue)) };
    },
    onSubscribe({ args }) {
      return {
        onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, markResult(args.contextValue)),
        onSubscribeError: ({ error }) => mark([error], args.contextValue),
      };
    },
  };
  return { plugin, clientOf: (error: unknown): string | null => (typeof error === 'object' && error !== null ? (clients.get(error) ?? null) : null) };
}
