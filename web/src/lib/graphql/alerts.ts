// Alert rules, their open incidents, and the in-app notifications they write.
import { graphql } from '../gql/index.js';

export const alertRuleFragment = graphql(`
  fragment AlertRuleView on AlertRule {
    id
    name
    kind
    minutes
    enabled
    inApp
    description
    wan {
      id
      name
    }
    device {
      id
      name
    }
    openIncidents {
      id
      subjectName
      firingSince
      link
    }
  }
`);

export const alertsPageQuery = graphql(`
  query AlertsPage {
    alertRules {
      ...AlertRuleView
    }
    wans(first: 200) {
      edges {
        node {
          id
          name
        }
      }
    }
    devices(first: 500) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);

export const createAlertRuleMutation = graphql(`
  mutation CreateAlertRule($input: CreateAlertRuleInput!) {
    createAlertRule(input: $input) {
      ...AlertRuleView
    }
  }
`);

export const updateAlertRuleMutation = graphql(`
  mutation UpdateAlertRule($id: ID!, $input: UpdateAlertRuleInput!) {
    updateAlertRule(id: $id, input: $input) {
      ...AlertRuleView
    }
  }
`);

export const deleteAlertRuleMutation = graphql(`
  mutation DeleteAlertRule($id: ID!) {
    deleteAlertRule(id: $id)
  }
`);

export const notificationFragment = graphql(`
  fragment NotificationView on Notification {
    id
    createdAt
    severity
    title
    body
    link
    read
  }
`);

export const notificationsQuery = graphql(`
  query Notifications($unreadOnly: Boolean) {
    unreadNotificationCount
    notifications(first: 100, unreadOnly: $unreadOnly) {
      edges {
        node {
          ...NotificationView
        }
      }
    }
  }
`);

export const unreadCountQuery = graphql(`
  query UnreadNotificationCount {
    unreadNotificationCount
  }
`);

export const markNotificationsReadMutation = graphql(`
  mutation MarkNotificationsRead($ids: [ID!], $all: Boolean) {
    markNotificationsRead(ids: $ids, all: $all) {
      marked
      unreadCount
    }
  }
`);

export const notificationAddedSubscription = graphql(`
  subscription NotificationAdded {
    notificationAdded {
      ...NotificationView
    }
  }
`);
