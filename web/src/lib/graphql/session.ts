// Who is signed in, first-run setup, and signing in and out.
import { graphql } from '../gql/index.js';

export const sessionUserFragment = graphql(`
  fragment SessionUser on User {
    id
    email
    name
    role
  }
`);

export const meQuery = graphql(`
  query Me {
    me {
      ...SessionUser
    }
  }
`);

export const setupStateQuery = graphql(`
  query SetupState {
    setupState {
      needsFirstUser
    }
    signInOptions {
      password
      registration
      sso {
        label
      }
      ldap
    }
  }
`);

/** Asked before `logout`: the identity provider's sign-out page for an SSO session, else null. */
export const signOutUrlQuery = graphql(`
  query SignOutUrl {
    signOutUrl
  }
`);

export const loginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      user {
        ...SessionUser
      }
    }
  }
`);

export const registerMutation = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      user {
        ...SessionUser
      }
    }
  }
`);

export const logoutMutation = graphql(`
  mutation Logout {
    logout
  }
`);
