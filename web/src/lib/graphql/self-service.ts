// The self-service portal (My devices): the WANs open for self-service, the user's own peers,
// adding, deleting, downloading their config. The QR code comes through QrDialog (`own`).
import { graphql } from '../gql/index.js';

export const myDevicesQuery = graphql(`
  query MyDevices {
    selfServiceWans {
      id
      name
      peerLimit
      myPeerCount
    }
    myPeers {
      id
      name
      wanId
      wanName
      tunnelIp
      tunnelIp6
      enabled
      expiresAt
      configStatus
      downloadedAt
      createdAt
    }
  }
`);

export const createMyPeerMutation = graphql(`
  mutation CreateMyPeer($input: CreateMyPeerInput!) {
    createMyPeer(input: $input) {
      id
      name
    }
  }
`);

export const deleteMyPeerMutation = graphql(`
  mutation DeleteMyPeer($id: ID!) {
    deleteMyPeer(id: $id)
  }
`);

export const downloadMyPeerConfigMutation = graphql(`
  mutation DownloadMyPeerConfig($peerId: ID!) {
    downloadMyPeerConfig(peerId: $peerId) {
      filename
      content
    }
  }
`);

export const showMyPeerQrCodeMutation = graphql(`
  mutation ShowMyPeerQrCode($peerId: ID!) {
    showMyPeerQrCode(peerId: $peerId) {
      peerId
      peerName
      filename
      qrSvg
    }
  }
`);
