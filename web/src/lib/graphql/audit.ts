// The audit log (admin only): every change and every device call, newest first.
import { graphql } from '../gql/index.js';

export const auditLogQuery = graphql(`
  query AuditLog($filter: AuditFilter, $first: Int, $after: String) {
    auditLog(filter: $filter, first: $first, after: $after) {
      edges {
        node {
          id
          at
          action
          actorLabel
          outcome
          targetType
          targetId
          targetName
          targetExists
          changes {
            field
            before
            after
            secret
            valuesRecorded
          }
          details
          durationMs
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);
