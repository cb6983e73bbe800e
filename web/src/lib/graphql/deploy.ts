// Managed peers: plan, approve, watch the job, verify (a job too), revert and clear.
import { graphql } from '../gql/index.js';

export const jobFragment = graphql(`
  fragment JobView on DeployJob {
    id
    kind
    status
    progress
    error
    warnings
    log
    createdAt
    startedAt
    finishedAt
    steps {
      name
      status
      detail
      startedAt
      finishedAt
    }
    automatic
    actorName
    drift {
      kind
      key
      state
      detail
      group
      label
      fields {
        field
        before
        after
      }
    }
    peer {
      id
      name
    }
    device {
      id
      name
    }
    wan {
      id
      name
    }
  }
`);

export const planDeployMutation = graphql(`
  mutation PlanDeploy($peerId: ID!) {
    planDeploy(peerId: $peerId) {
      planHash
      lines
      summary
      groups {
        group
        create
        update
        remove
        items {
          action
          label
          reason
          fields {
            field
            before
            after
          }
        }
      }
      operations
      unchanged
      preflight {
        severity
        resource
        message
        deviceRef
      }
    }
  }
`);

export const preflightPeerMutation = graphql(`
  mutation PreflightPeer($peerId: ID!) {
    preflightPeer(peerId: $peerId) {
      severity
      resource
      message
    }
  }
`);

/** overridePreflight: deploy despite preflight errors, with the operator's reason (audited). */
export const deployPeerMutation = graphql(`
  mutation DeployPeer($peerId: ID!, $planHash: String, $overridePreflight: PreflightOverrideInput) {
    deployPeer(peerId: $peerId, approve: true, planHash: $planHash, overridePreflight: $overridePreflight) {
      ...JobView
    }
  }
`);

/** Starts a VERIFY job; its drift is filled in once it has succeeded. */
export const verifyPeerMutation = graphql(`
  mutation VerifyPeer($peerId: ID!) {
    verifyPeer(peerId: $peerId) {
      ...JobView
    }
  }
`);

export const revertPeerMutation = graphql(`
  mutation RevertPeer($peerId: ID!) {
    revertPeer(peerId: $peerId) {
      ...JobView
    }
  }
`);

export const clearPeerMutation = graphql(`
  mutation ClearPeer($peerId: ID!) {
    clearPeer(peerId: $peerId) {
      ...JobView
    }
  }
`);

export const rerunJobMutation = graphql(`
  mutation RerunJob($jobId: ID!) {
    rerunJob(jobId: $jobId) {
      ...JobView
    }
  }
`);

export const peerStatisticsQuery = graphql(`
  query PeerStatistics($peerId: ID!) {
    peerStatistics(peerId: $peerId) {
      publicKey
      peerId
      peerName
      peerAddress
      currentEndpoint
      lastHandshake
      rxBytes
      txBytes
    }
  }
`);

/** A page of 50 jobs (a literal, so the request's price is that of 50 jobs with their logs and drift). */
export const jobsQuery = graphql(`
  query Jobs($wanId: ID, $kind: JobKind, $status: JobStatus, $trigger: JobTrigger, $after: String) {
    jobs(wanId: $wanId, kind: $kind, status: $status, trigger: $trigger, first: 50, after: $after) {
      edges {
        node {
          ...JobView
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

/** The job as it is now, then every change to it (or to every job of a WAN). */
export const jobProgressSubscription = graphql(`
  subscription JobProgress($jobId: ID, $wanId: ID) {
    jobProgress(jobId: $jobId, wanId: $wanId) {
      ...JobView
    }
  }
`);

/** Who did what to a peer's device and when, with each deployment's configuration as deployed. */
export const peerHistoryQuery = graphql(`
  query PeerHistory($id: ID!) {
    peer(id: $id) {
      id
      history {
        id
        action
        status
        actorName
        automatic
        at
        revertedTo
        jobId
        error
        deployment {
          id
          leftovers
          device {
            id
            name
          }
        }
      }
    }
  }
`);

export const deploymentConfigQuery = graphql(`
  query DeploymentConfig($id: ID!) {
    peer(id: $id) {
      id
      deployments {
        id
        createdAt
        config
      }
    }
  }
`);

export const deploymentComparisonQuery = graphql(`
  query DeploymentComparison($fromId: ID!, $toId: ID) {
    deploymentComparison(fromId: $fromId, toId: $toId) {
      added
      removed
      lines {
        change
        text
      }
    }
  }
`);
