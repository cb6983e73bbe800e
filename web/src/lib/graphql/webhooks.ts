// Webhooks (admin only): subscriptions, the secret shown once, the delivery log, "send test".
import { graphql } from '../gql/index.js';

export const webhookDeliveryFragment = graphql(`
  fragment WebhookDeliveryView on WebhookDelivery {
    id
    eventId
    eventType
    status
    attempts
    nextAttemptAt
    lastStatusCode
    lastError
    lastDurationMs
    test
    createdAt
    completedAt
  }
`);

export const webhookAttemptsFragment = graphql(`
  fragment WebhookAttemptsView on WebhookDelivery {
    attemptLog {
      at
      statusCode
      error
      durationMs
      response
    }
  }
`);

export const webhooksPageQuery = graphql(`
  query WebhooksPage {
    webhooks(first: 100) {
      edges {
        node {
          id
          name
          url
          events
          enabled
          allowPrivateTargets
          createdByName
          createdAt
          queued
          lastDelivery {
            ...WebhookDeliveryView
          }
        }
      }
    }
    webhookEventTypes
  }
`);

export const webhookDeliveriesQuery = graphql(`
  query WebhookDeliveries($id: ID!, $filter: WebhookDeliveryFilter) {
    webhook(id: $id) {
      id
      deliveries(first: 50, filter: $filter) {
        edges {
          node {
            ...WebhookDeliveryView
            ...WebhookAttemptsView
          }
        }
      }
    }
  }
`);

export const createWebhookMutation = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      secret
      webhook {
        id
        name
      }
    }
  }
`);

export const updateWebhookMutation = graphql(`
  mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {
    updateWebhook(id: $id, input: $input) {
      id
      enabled
      allowPrivateTargets
    }
  }
`);

export const rotateWebhookSecretMutation = graphql(`
  mutation RotateWebhookSecret($id: ID!) {
    rotateWebhookSecret(id: $id) {
      secret
      webhook {
        id
        name
      }
    }
  }
`);

export const deleteWebhookMutation = graphql(`
  mutation DeleteWebhook($id: ID!) {
    deleteWebhook(id: $id)
  }
`);

export const sendTestWebhookMutation = graphql(`
  mutation SendTestWebhook($id: ID!) {
    sendTestWebhook(id: $id) {
      ...WebhookDeliveryView
    }
  }
`);

export const redeliverWebhookDeliveryMutation = graphql(`
  mutation RedeliverWebhookDelivery($id: ID!) {
    redeliverWebhookDelivery(id: $id) {
      ...WebhookDeliveryView
    }
  }
`);
