// Managed routers and hosts: MikroTik (API or REST), pfSense, the local Linux host.
import { graphql } from '../gql/index.js';

export const deviceFragment = graphql(`
  fragment DeviceView on Device {
    id
    name
    kind
    host
    port
    username
    authMode
    tls
    tlsVerify
    hasSecret
    hasCustomCa
    managementAddress
    concurrency
    timeoutMs
    source
    autoRepair
    reachable
    statsAvailable
    health {
      reachable
      authenticated
      lastError {
        code
        message
      }
      since
      nextCheckAt
      consecutiveFailures
    }
    peers {
      id
      name
      wan {
        id
        name
      }
      # Not the full DriftView: 500 devices' peers with every item's detail cost more than a request may.
      drift {
        checkedAt
        since
        drifted
        items {
          label
          state
        }
      }
    }
  }
`);

export const driftFragment = graphql(`
  fragment DriftView on PeerDrift {
    checkedAt
    since
    drifted
    items {
      group
      label
      state
      detail
    }
  }
`);

export const devicesQuery = graphql(`
  query Devices {
    devices(first: 500) {
      edges {
        node {
          ...DeviceView
        }
      }
    }
    backend {
      defaultDevice {
        id
      }
    }
  }
`);

export const createDeviceMutation = graphql(`
  mutation CreateDevice($input: CreateDeviceInput!) {
    createDevice(input: $input) {
      ...DeviceView
    }
  }
`);

export const updateDeviceMutation = graphql(`
  mutation UpdateDevice($id: ID!, $input: UpdateDeviceInput!) {
    updateDevice(id: $id, input: $input) {
      ...DeviceView
    }
  }
`);

export const deleteDeviceMutation = graphql(`
  mutation DeleteDevice($id: ID!) {
    deleteDevice(id: $id)
  }
`);

export const testDeviceConnectionMutation = graphql(`
  mutation TestDeviceConnection($deviceId: ID!) {
    testDeviceConnection(deviceId: $deviceId) {
      reachable
      loggedIn
      identity
      version
      message
      errorCode
    }
  }
`);
