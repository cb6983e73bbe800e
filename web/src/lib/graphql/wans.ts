// WAN overlays: the list on the home page and creating one.
import { graphql } from '../gql/index.js';

export const wansQuery = graphql(`
  query Wans($first: Int, $after: String) {
    wans(first: $first, after: $after) {
      edges {
        node {
          id
          name
          tunnelCidr
          servicesCidr
          topology
          peerCount
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const createWanMutation = graphql(`
  mutation CreateWan($input: CreateWanInput!) {
    createWan(input: $input) {
      wan {
        id
        name
        tunnelCidr
        topology
      }
    }
  }
`);

/** Any WAN (or something inside one) changed: lists reload. Over graphql-ws, cookie-authenticated. */
export const wanChangedSubscription = graphql(`
  subscription WanChanged {
    wanChanged {
      kind
      entity
      wanId
    }
  }
`);
