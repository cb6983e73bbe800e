// Adopting what exists: read a device, propose a WAN from one of its interfaces or from
// wg-quick files, adopt it (with the ADOPT job on a device), and a device's LANs for a peer.
// Keys: only public keys and whether a private/preshared key is known ever reach the browser.
import { graphql } from '../gql/index.js';

export const discoverDeviceQuery = graphql(`
  query DiscoverDevice($deviceId: ID!, $fresh: Boolean) {
    discoverDevice(deviceId: $deviceId, fresh: $fresh) {
      deviceId
      readAt
      notes
      interfaces {
        ref
        name
        listenPort
        mtu
        publicKey
        privateKeyKnown
        addresses
        disabled
        comment
        managed
        source
        unmodelled {
          owner
          name
          value
        }
        peers {
          ref
          publicKey
          allowedIps
          endpointHost
          endpointPort
          persistentKeepalive
          hasPresharedKey
          presharedKeyKnown
          comment
          disabled
          managed
          lastHandshake
        }
      }
      connectedNetworks {
        cidr
        address
        interfaceName
        uplink
      }
      routes {
        ref
        destination
        gateway
        interfaceName
        static
        disabled
        managed
      }
    }
  }
`);

export const proposalFragment = graphql(`
  fragment ProposalView on AdoptionProposal {
    source
    summary
    wan {
      wanId
      name
      tunnelCidr
      tunnelCidr6
      servicesCidr
      natPool
      topology
      listenPort
      mtu
      keepalive
      interfaceName
    }
    peers {
      id
      name
      role
      publicKey
      privateKeyKnown
      tunnelIp
      tunnelIp6
      endpointHost
      endpointPort
      listenPort
      keepalive
      lans
      local
      existingPeerId
      enabled
      refs
    }
    presharedKeys {
      a
      b
    }
    issues {
      id
      kind
      subject
      message
      options {
        id
        label
      }
      defaultOption
      needsChoice
      peerId
    }
  }
`);

export const proposeAdoptionQuery = graphql(`
  query ProposeAdoption($input: ProposeAdoptionInput!) {
    proposeAdoption(input: $input) {
      ...ProposalView
    }
  }
`);

export const adoptMutation = graphql(`
  mutation Adopt($input: AdoptInput!) {
    adopt(input: $input) {
      wan {
        id
        name
      }
      peers {
        id
        name
      }
      job {
        ...JobView
      }
      report {
        issueId
        kind
        subject
        optionId
        chosen
        outcome
      }
    }
  }
`);

export const adoptionTargetsQuery = graphql(`
  query AdoptionTargets {
    wans(first: 500) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);

export const peerLanSuggestionsQuery = graphql(`
  query PeerLanSuggestions($peerId: ID!) {
    peerLanSuggestions(peerId: $peerId) {
      cidr
      address
      interfaceName
      uplink
      suggested
      reason
    }
  }
`);

export const discoverPageQuery = graphql(`
  query DiscoverPage($deviceId: ID!) {
    device(id: $deviceId) {
      id
      name
      kind
    }
    wans(first: 500) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);
