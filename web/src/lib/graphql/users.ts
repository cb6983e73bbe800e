// People (admin only) and each person's API tokens.
import { graphql } from '../gql/index.js';

export const usersQuery = graphql(`
  query Users {
    users(first: 500) {
      edges {
        node {
          id
          name
          email
          role
          disabled
          createdAt
          authSource
          syncedAt
          disabledByDirectory
        }
      }
    }
    directory {
      syncIntervalMinutes
      lastSyncAt
      lastSyncOk
      lastSyncError
    }
    pendingInvitations {
      id
      email
      role
      createdAt
      expiresAt
      invitedBy {
        name
        email
      }
    }
  }
`);

export const revokeInvitationMutation = graphql(`
  mutation RevokeInvitation($id: ID!) {
    revokeInvitation(id: $id)
  }
`);

/** A registration link's invitation, found by its token (null: unknown, used, revoked or expired). */
export const invitationQuery = graphql(`
  query Invitation($token: String!) {
    invitation(token: $token) {
      email
      role
      expiresAt
    }
  }
`);

export const createUserMutation = graphql(`
  mutation CreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      id
      name
    }
  }
`);

export const createInviteMutation = graphql(`
  mutation CreateInvite($input: CreateInviteInput!) {
    createInvite(input: $input) {
      inviteId
      email
      role
      expiresAt
      token
    }
  }
`);

export const changeUserRoleMutation = graphql(`
  mutation ChangeUserRole($userId: ID!, $role: Role!) {
    changeUserRole(userId: $userId, role: $role) {
      id
      role
    }
  }
`);

/** Compares every directory (LDAP) user with the directory now. */
export const syncDirectoryMutation = graphql(`
  mutation SyncDirectory {
    syncDirectory {
      checked
      disabled
      enabled
      roleChanged
      updated
    }
  }
`);

export const setUserDisabledMutation = graphql(`
  mutation SetUserDisabled($userId: ID!, $disabled: Boolean!) {
    setUserDisabled(userId: $userId, disabled: $disabled) {
      id
      disabled
    }
  }
`);

export const apiTokensQuery = graphql(`
  query ApiTokens {
    myApiTokens(first: 500) {
      edges {
        node {
          id
          name
          prefix
          createdAt
          expiresAt
          lastUsedAt
          revokedAt
        }
      }
    }
  }
`);

export const createApiTokenMutation = graphql(`
  mutation CreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      token
      apiToken {
        id
        name
      }
    }
  }
`);

export const revokeApiTokenMutation = graphql(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      id
      revokedAt
    }
  }
`);
