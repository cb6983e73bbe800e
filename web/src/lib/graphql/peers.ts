// Peers: the WAN page's table, the peer page, and changing a peer.
import { graphql } from '../gql/index.js';

export const peerRowFragment = graphql(`
  fragment PeerRow on Peer {
    id
    name
    role
    tunnelIp
    tunnelIp6
    endpointHost
    endpointPort
    keyCustody
    enabled
    expiresAt
    configStatus
    download {
      status
    }
    device {
      id
      name
      kind
      statsAvailable
    }
    subnets {
      id
      natCidr
    }
    lastSeen
    sparkline
  }
`);

export const peerPageQuery = graphql(`
  query PeerPage($id: ID!) {
    peer(id: $id) {
      id
      name
      role
      tunnelIp
      tunnelIp6
      publicKey
      keyCustody
      endpointHost
      endpointPort
      listenPort
      keepalive
      portForwarded
      autoDeploy
      enabled
      expiresAt
      configStatus
      deliveredAt
      deliveredVia
      download {
        status
        at
      }
      drift {
        ...DriftView
      }
      owner {
        id
        name
        email
      }
      wan {
        id
        name
        listenPort
        keepalive
        topology
        hubRedundancy
        conflicts {
          ...ConflictView
        }
      }
      device {
        id
        name
        kind
        host
        statsAvailable
      }
      subnets {
        id
        cidr
        natCidr
        routed
        description
      }
      services {
        id
        name
        protocol
        localIp
        localPort
        serviceIp
        servicePort
      }
      reachability {
        ...ReachabilityView
      }
      deployments {
        id
        createdAt
        success
        status
        error
        leftovers
        configHash
        jobId
        device {
          name
        }
      }
      confPreview: configPreview(format: WG_QUICK)
      rscPreview: configPreview(format: ROUTEROS)
      bundlePreview: configPreview(format: LINUX_BUNDLE)
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

export const addPeerMutation = graphql(`
  mutation AddPeer($wanId: ID!, $input: AddPeerInput!) {
    addPeer(wanId: $wanId, input: $input) {
      peer {
        id
        name
        tunnelIp
        tunnelIp6
      }
    }
  }
`);

export const updatePeerMutation = graphql(`
  mutation UpdatePeer($id: ID!, $input: UpdatePeerInput!) {
    updatePeer(id: $id, input: $input) {
      peer {
        id
        configStatus
      }
    }
  }
`);

export const deletePeerMutation = graphql(`
  mutation DeletePeer($id: ID!) {
    deletePeer(id: $id)
  }
`);

export const rotatePeerKeyMutation = graphql(`
  mutation RotatePeerKey($id: ID!) {
    rotatePeerKey(id: $id) {
      peer {
        id
        publicKey
      }
    }
  }
`);

export const downloadPeerConfigMutation = graphql(`
  mutation DownloadPeerConfig($peerId: ID!, $format: ConfigFormat!) {
    downloadPeerConfig(peerId: $peerId, format: $format) {
      filename
      format
      content
    }
  }
`);

/** Switches a peer on or off (and, switching an expired one on, clears its expiry). */
export const setPeerEnabledMutation = graphql(`
  mutation SetPeerEnabled($id: ID!, $input: UpdatePeerInput!) {
    updatePeer(id: $id, input: $input) {
      peer {
        id
        enabled
        expiresAt
        configStatus
      }
    }
  }
`);

/** The QR code of a peer's wg-quick config, rendered (and audited) anew for each showing. */
export const showPeerQrCodeMutation = graphql(`
  mutation ShowPeerQrCode($peerId: ID!) {
    showPeerQrCode(peerId: $peerId) {
      peerId
      peerName
      filename
      qrSvg
    }
  }
`);
