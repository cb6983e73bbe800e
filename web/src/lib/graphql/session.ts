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
