// Traffic history: the peer page's charts (the table's sparkline and last seen are in PeerRow).
import { graphql } from '../gql/index.js';

export const peerTrafficQuery = graphql(`
  query PeerTraffic($id: ID!, $range: TrafficRange!) {
    peer(id: $id) {
      id
      lastSeen
      traffic(range: $range) {
        resolutionSeconds
        points {
          at
          rxBytesPerSecond
          txBytesPerSecond
          handshakeAgeSeconds
        }
      }
    }
  }
`);
