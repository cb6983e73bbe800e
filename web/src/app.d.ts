/// <reference types="@sveltejs/adapter-node" />
import type { SessionUserFragment } from '$lib/gql/graphql';

declare global {
  namespace App {
    interface Locals {
      /** The signed-in user, loaded by hooks.server.ts from the session cookie; null when signed out. */
      user: SessionUserFragment | null;
    }
    interface Error {
      message: string;
      code?: string;
    }
  }
}

export {};
