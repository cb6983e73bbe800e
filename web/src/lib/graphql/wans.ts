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
 * What the WAN page shows on load, at any size: settings, counts, a summary of the topology
 * and the first conflicts (the peer table reads its own page of peers). Not the graph nor
 * every peer (and 50 conflicts at most; conflictCount counts them all): at 10,000 peers those are 10,000 nodes and rows per view, so the page asks for
 * them (`wanDetailsQuery`) by itself for a small WAN, and for a large one when the operator
 * opens the topology.
 */
export const wanPageQuery = graphql(`
  query WanPage($id: ID!) {
    wan(id: $id) {
      ...WanSettings
      staleCount
      driftedCount
      peerCount
      conflictCount
      conflicts(first: 50) {
        ...ConflictView
      }
      topologySummary {
        peers
        enabled
        disabled
        hubs
        sites
        clients
        withDevice
        withoutEndpoint
        hubNames
        tunnels
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

/**
 * The whole topology graph and a list of the peers (reachability entries, whose LAN a conflict
 * fix translates): what the WAN page adds when the WAN is small or the operator opens it. Not
 * reachability: the whole WAN's is O(peers²), so the page asks for one peer's at a time
 * (`peerReachabilityQuery`) when its entry is opened.
 */
export const wanDetailsQuery = graphql(`
  query WanDetails($id: ID!) {
    wan(id: $id) {
      id
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
      peers(first: 1000) {
        edges {
          node {
            id
            name
            role
            tunnelIp
            device {
              id
            }
            subnets {
              id
              natCidr
            }
          }
        }
        pageInfo {
          hasNextPage
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
