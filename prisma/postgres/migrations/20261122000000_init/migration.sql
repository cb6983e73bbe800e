-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'OPERATOR', 'VIEWER');

-- CreateEnum
CREATE TYPE "Topology" AS ENUM ('MESH', 'HUB_SPOKE', 'HYBRID');

-- CreateEnum
CREATE TYPE "PeerRole" AS ENUM ('HUB', 'SITE', 'CLIENT');

-- CreateEnum
CREATE TYPE "DeviceKind" AS ENUM ('LINUX', 'ROUTEROS_API', 'ROUTEROS_REST', 'PFSENSE');

-- CreateEnum
CREATE TYPE "JobKind" AS ENUM ('DEPLOY', 'VERIFY', 'REVERT', 'CLEAR');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'INTERRUPTED');

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'VIEWER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disabledAt" TIMESTAMP(3),

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Invite" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),

    CONSTRAINT "Invite_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Wan" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "tunnelCidr" TEXT NOT NULL DEFAULT '10.0.0.0/24',
    "servicesCidr" TEXT NOT NULL DEFAULT '10.0.5.0/24',
    "natPool" TEXT NOT NULL DEFAULT '172.16.0.0/12',
    "topology" "Topology" NOT NULL DEFAULT 'MESH',
    "listenPort" INTEGER NOT NULL DEFAULT 51820,
    "mtu" INTEGER NOT NULL DEFAULT 1420,
    "keepalive" INTEGER NOT NULL DEFAULT 25,
    "interfaceName" TEXT NOT NULL DEFAULT 'wg0',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Wan_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Peer" (
    "id" TEXT NOT NULL,
    "wanId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" "PeerRole" NOT NULL DEFAULT 'SITE',
    "tunnelIp" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "privateKeyEnc" TEXT,
    "endpointHost" TEXT,
    "endpointPort" INTEGER,
    "listenPort" INTEGER,
    "keepalive" INTEGER,
    "portForwarded" BOOLEAN NOT NULL DEFAULT false,
    "autoDeploy" BOOLEAN NOT NULL DEFAULT false,
    "deviceId" TEXT,
    "deliveredHash" TEXT,
    "deliveredAt" TIMESTAMP(3),
    "deliveredVia" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Peer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PresharedKey" (
    "id" TEXT NOT NULL,
    "wanId" TEXT NOT NULL,
    "peerAId" TEXT NOT NULL,
    "peerBId" TEXT NOT NULL,
    "keyEnc" TEXT NOT NULL,

    CONSTRAINT "PresharedKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Subnet" (
    "id" TEXT NOT NULL,
    "peerId" TEXT NOT NULL,
    "cidr" TEXT NOT NULL,
    "routed" BOOLEAN NOT NULL DEFAULT true,
    "natCidr" TEXT,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Subnet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PublishedService" (
    "id" TEXT NOT NULL,
    "wanId" TEXT NOT NULL,
    "peerId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "protocol" TEXT NOT NULL DEFAULT 'tcp',
    "localIp" TEXT NOT NULL,
    "localPort" INTEGER NOT NULL,
    "serviceIp" TEXT NOT NULL,
    "servicePort" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PublishedService_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Device" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "DeviceKind" NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER,
    "username" TEXT,
    "secretEnc" TEXT,
    "tls" BOOLEAN NOT NULL DEFAULT true,
    "tlsVerify" BOOLEAN NOT NULL DEFAULT true,
    "caPem" TEXT,
    "timeoutMs" INTEGER NOT NULL DEFAULT 10000,
    "concurrency" INTEGER NOT NULL DEFAULT 1,
    "managementAddress" TEXT,
    "source" TEXT NOT NULL DEFAULT 'db',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Device_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DeployJob" (
    "id" TEXT NOT NULL,
    "kind" "JobKind" NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "wanId" TEXT,
    "peerId" TEXT,
    "deviceId" TEXT,
    "actorId" TEXT,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "steps" TEXT NOT NULL DEFAULT '[]',
    "log" TEXT NOT NULL DEFAULT '',
    "result" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "DeployJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Deployment" (
    "id" TEXT NOT NULL,
    "peerId" TEXT NOT NULL,
    "deviceId" TEXT,
    "jobId" TEXT,
    "configHash" TEXT NOT NULL,
    "desired" TEXT NOT NULL,
    "success" BOOLEAN NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Deployment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditLog" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorId" TEXT,
    "actorLabel" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "targetType" TEXT,
    "targetId" TEXT,
    "outcome" TEXT NOT NULL,
    "durationMs" INTEGER,
    "details" TEXT NOT NULL DEFAULT '{}',

    CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "Session_tokenHash_key" ON "Session"("tokenHash");

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE INDEX "ApiToken_userId_idx" ON "ApiToken"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Invite_tokenHash_key" ON "Invite"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "Wan_name_key" ON "Wan"("name");

-- CreateIndex
CREATE INDEX "Peer_deviceId_idx" ON "Peer"("deviceId");

-- CreateIndex
CREATE UNIQUE INDEX "Peer_wanId_name_key" ON "Peer"("wanId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Peer_wanId_tunnelIp_key" ON "Peer"("wanId", "tunnelIp");

-- CreateIndex
CREATE UNIQUE INDEX "Peer_wanId_publicKey_key" ON "Peer"("wanId", "publicKey");

-- CreateIndex
CREATE INDEX "PresharedKey_wanId_idx" ON "PresharedKey"("wanId");

-- CreateIndex
CREATE UNIQUE INDEX "PresharedKey_peerAId_peerBId_key" ON "PresharedKey"("peerAId", "peerBId");

-- CreateIndex
CREATE INDEX "Subnet_peerId_idx" ON "Subnet"("peerId");

-- CreateIndex
CREATE INDEX "PublishedService_peerId_idx" ON "PublishedService"("peerId");

-- CreateIndex
CREATE UNIQUE INDEX "PublishedService_wanId_serviceIp_protocol_servicePort_key" ON "PublishedService"("wanId", "serviceIp", "protocol", "servicePort");

-- CreateIndex
CREATE UNIQUE INDEX "Device_name_key" ON "Device"("name");

-- CreateIndex
CREATE INDEX "DeployJob_status_idx" ON "DeployJob"("status");

-- CreateIndex
CREATE INDEX "DeployJob_wanId_idx" ON "DeployJob"("wanId");

-- CreateIndex
CREATE INDEX "DeployJob_deviceId_idx" ON "DeployJob"("deviceId");

-- CreateIndex
CREATE INDEX "Deployment_peerId_createdAt_idx" ON "Deployment"("peerId", "createdAt");

-- CreateIndex
CREATE INDEX "AuditLog_at_idx" ON "AuditLog"("at");

-- CreateIndex
CREATE INDEX "AuditLog_action_idx" ON "AuditLog"("action");

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Invite" ADD CONSTRAINT "Invite_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Peer" ADD CONSTRAINT "Peer_wanId_fkey" FOREIGN KEY ("wanId") REFERENCES "Wan"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Peer" ADD CONSTRAINT "Peer_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PresharedKey" ADD CONSTRAINT "PresharedKey_wanId_fkey" FOREIGN KEY ("wanId") REFERENCES "Wan"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PresharedKey" ADD CONSTRAINT "PresharedKey_peerAId_fkey" FOREIGN KEY ("peerAId") REFERENCES "Peer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PresharedKey" ADD CONSTRAINT "PresharedKey_peerBId_fkey" FOREIGN KEY ("peerBId") REFERENCES "Peer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Subnet" ADD CONSTRAINT "Subnet_peerId_fkey" FOREIGN KEY ("peerId") REFERENCES "Peer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PublishedService" ADD CONSTRAINT "PublishedService_peerId_fkey" FOREIGN KEY ("peerId") REFERENCES "Peer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeployJob" ADD CONSTRAINT "DeployJob_wanId_fkey" FOREIGN KEY ("wanId") REFERENCES "Wan"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeployJob" ADD CONSTRAINT "DeployJob_peerId_fkey" FOREIGN KEY ("peerId") REFERENCES "Peer"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeployJob" ADD CONSTRAINT "DeployJob_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_peerId_fkey" FOREIGN KEY ("peerId") REFERENCES "Peer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE SET NULL ON UPDATE CASCADE;

