// LANs a peer hosts, and the services it publishes on the overlay.
import { graphql } from '../gql/index.js';

export const addSubnetMutation = graphql(`
  mutation AddSubnet($peerId: ID!, $input: AddSubnetInput!) {
    addSubnet(peerId: $peerId, input: $input) {
      id
      cidr
      natCidr
    }
  }
`);

export const updateSubnetMutation = graphql(`
  mutation UpdateSubnet($id: ID!, $input: UpdateSubnetInput!) {
    updateSubnet(id: $id, input: $input) {
      id
      cidr
      natCidr
      routed
    }
  }
`);

export const deleteSubnetMutation = graphql(`
  mutation DeleteSubnet($id: ID!) {
    deleteSubnet(id: $id)
  }
`);

export const publishServiceMutation = graphql(`
  mutation PublishService($peerId: ID!, $input: PublishServiceInput!) {
    publishService(peerId: $peerId, input: $input) {
      id
      serviceIp
      servicePort
    }
  }
`);

export const unpublishServiceMutation = graphql(`
  mutation UnpublishService($id: ID!) {
    unpublishService(id: $id)
  }
`);
