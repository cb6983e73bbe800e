// WAN overlays: the list, creating, editing and deleting one, and the WAN page.
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
          tunnelCidr6
          topology
          peerCount
          staleCount
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

/** Only the ids, a page at a time: the jobs page follows every WAN's jobs. */
export const wanIdsQuery = graphql(`
  query WanIds($first: Int, $after: String) {
    wans(first: $first, after: $after) {
      edges {
        node {
          id
          name
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const wanSettingsFragment = graphql(`
  fragment WanSettings on Wan {
    id
    name
    tunnelCidr
    servicesCidr
    natPool
    tunnelCidr6
    servicesCidr6
    natPool6
    topology
    listenPort
    mtu
    keepalive
    interfaceName
    hubRedundancy
    selfService
    selfServicePeerLimit
  }
`);

export const createWanMutation = graphql(`
  mutation CreateWan($input: CreateWanInput!) {
    createWan(input: $input) {
      wan {
        id
        name
        tunnelCidr
        tunnelCidr6
        topology
      }
    }
  }
`);

export const updateWanMutation = graphql(`
  mutation UpdateWan($id: ID!, $input: UpdateWanInput!) {
    updateWan(id: $id, input: $input) {
      wan {
        ...WanSettings
      }
    }
  }
`);

export const deleteWanMutation = graphql(`
  mutation DeleteWan($id: ID!) {
    deleteWan(id: $id)
  }
`);

/**
 * What the WAN page shows on load: settings, the graph, peers and conflicts. Not reachability:
 * the whole WAN's is O(peers²) (a million entries at 1,000 peers), so the page asks for one
 * peer's at a time (`peerReachabilityQuery`) when its entry is opened.
 */
export const wanPageQuery = graphql(`
  query WanPage($id: ID!) {
    wan(id: $id) {
      ...WanSettings
      staleCount
      driftedCount
      peerCount
      topologyGraph {
        nodes {
          peerId
          name
          role
          tunnelIp
          tunnelIp6
          endpoint
          cgnat
        }
        edges {
          ...TunnelView
        }
      }
      conflicts {
        ...ConflictView
      }
      peers(first: 1000) {
        edges {
          node {
            ...PeerRow
          }
        }
        pageInfo {
          hasNextPage
        }
      }
    }
    backend {
      defaultDevice {
        id
        name
      }
    }
    devices(first: 200) {
      edges {
        node {
          id
          name
          kind
        }
      }
    }
  }
`);

/** One tunnel and its state as the devices at its ends report it. */
export const tunnelFragment = graphql(`
  fragment TunnelView on TopologyEdge {
    from
    to
    state
    lastHandshake
    reportedBy
    reason
    role
    hubRank
  }
`);

/** Every tunnel's state now, then the tunnels whose state or last handshake changed. */
export const tunnelStateSubscription = graphql(`
  subscription TunnelStateChanged($wanId: ID!) {
    tunnelStateChanged(wanId: $wanId) {
      ...TunnelView
    }
  }
`);

export const conflictFragment = graphql(`
  fragment ConflictView on Conflict {
    code
    severity
    message
    peerIds
    subnetIds
    cidrs
    autoNatSubnetIds
  }
`);

export const reachabilityFragment = graphql(`
  fragment ReachabilityView on PeerReachability {
    peerId
    peerName
    reaches {
      from
      fromKind
      kind
      target
      targetPeerId
      targetPeerName
      nextHopPeerId
      nextHopPeerName
      backupNextHopPeerId
      backupNextHopPeerName
    }
  }
`);

/** What one peer reaches: fetched when the WAN page's reachability entry for it is opened. */
export const peerReachabilityQuery = graphql(`
  query PeerReachability($id: ID!) {
    peer(id: $id) {
      id
      reachability {
        ...ReachabilityView
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

/** One WAN and what it contains changed: its pages reload. */
export const oneWanChangedSubscription = graphql(`
  subscription OneWanChanged($wanId: ID!) {
    wanChanged(wanId: $wanId) {
      kind
      entity
      entityId
      wanId
    }
  }
`);

export const peerStatusFragment = graphql(`
  fragment PeerLiveStatus on Peer {
    id
    status {
      online
      lastHandshake
      endpoint
      rxBytes
      txBytes
      observedAt
    }
  }
`);

/** Every peer's live status now, then the peers whose status changed (the handshake monitor). */
export const peerStatusSubscription = graphql(`
  subscription PeerStatusChanged($wanId: ID!) {
    peerStatusChanged(wanId: $wanId) {
      ...PeerLiveStatus
    }
  }
`);

/** Redundant hubs: each hub's state and the hub each spoke uses, now and on every change. */
export const hubUsageSubscription = graphql(`
  subscription HubUsageChanged($wanId: ID!) {
    hubUsageChanged(wanId: $wanId) {
      hubs {
        hubId
        name
        state
        spokesUsing
        reason
      }
      spokes {
        spokeId
        name
        state
        hubName
        hubRank
        reason
      }
    }
  }
`);
