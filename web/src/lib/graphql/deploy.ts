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
    drift {
      kind
      key
      state
      detail
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
      operations
      unchanged
      preflight {
        severity
        resource
        message
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
      currentEndpoint
      lastHandshake
      rxBytes
      txBytes
    }
  }
`);

export const jobsQuery = graphql(`
  query Jobs($wanId: ID, $first: Int) {
    jobs(wanId: $wanId, first: $first) {
      edges {
        node {
          ...JobView
        }
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
