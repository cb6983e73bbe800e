// The WAN page's peer table: one page of the WAN's peers, searched, filtered and ordered by the
// server (Wan.peers), so the table works the same at 10 peers and at 5,000.
import { graphql } from '../gql/index.js';

export const peerTableQuery = graphql(`
  query PeerTable($id: ID!, $search: String, $filter: PeerFilter, $orderBy: PeerOrder, $first: Int, $after: String, $last: Int, $before: String) {
    wan(id: $id) {
      id
      peers(search: $search, filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges {
          node {
            ...PeerRow
          }
        }
        pageInfo {
          hasNextPage
          hasPreviousPage
          startCursor
          endCursor
        }
      }
    }
  }
`);
