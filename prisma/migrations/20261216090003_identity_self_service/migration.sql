-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "passwordHash" TEXT,
    "role" TEXT NOT NULL DEFAULT 'VIEWER',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disabledAt" DATETIME,
    "authSource" TEXT NOT NULL DEFAULT 'LOCAL',
    "externalId" TEXT,
    "syncedAt" DATETIME
);
INSERT INTO "new_User" ("createdAt", "disabledAt", "email", "id", "name", "passwordHash", "role") SELECT "createdAt", "disabledAt", "email", "id", "name", "passwordHash", "role" FROM "User";
DROP TABLE "User";
ALTER TABLE "new_User" RENAME TO "User";
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE UNIQUE INDEX "User_authSource_externalId_key" ON "User"("authSource", "externalId");
CREATE TABLE "new_Wan" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "tunnelCidr" TEXT NOT NULL DEFAULT '10.0.0.0/24',
    "servicesCidr" TEXT NOT NULL DEFAULT '10.0.5.0/24',
    "natPool" TEXT NOT NULL DEFAULT '172.16.0.0/12',
    "topology" TEXT NOT NULL DEFAULT 'MESH',
    "listenPort" INTEGER NOT NULL DEFAULT 51820,
    "mtu" INTEGER NOT NULL DEFAULT 1420,
    "keepalive" INTEGER NOT NULL DEFAULT 25,
    "interfaceName" TEXT NOT NULL DEFAULT 'wg0',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "hubRedundancy" BOOLEAN NOT NULL DEFAULT false,
    "tunnelCidr6" TEXT,
    "servicesCidr6" TEXT,
    "natPool6" TEXT,
    "selfService" BOOLEAN NOT NULL DEFAULT false,
    "selfServicePeerLimit" INTEGER NOT NULL DEFAULT 3
);
INSERT INTO "new_Wan" ("createdAt", "hubRedundancy", "id", "interfaceName", "keepalive", "listenPort", "mtu", "name", "natPool", "natPool6", "servicesCidr", "servicesCidr6", "topology", "tunnelCidr", "tunnelCidr6", "updatedAt") SELECT "createdAt", "hubRedundancy", "id", "interfaceName", "keepalive", "listenPort", "mtu", "name", "natPool", "natPool6", "servicesCidr", "servicesCidr6", "topology", "tunnelCidr", "tunnelCidr6", "updatedAt" FROM "Wan";
DROP TABLE "Wan";
ALTER TABLE "new_Wan" RENAME TO "Wan";
CREATE UNIQUE INDEX "Wan_name_key" ON "Wan"("name");
CREATE TABLE "new_Peer" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "wanId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'SITE',
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
    "deliveredAt" DATETIME,
    "deliveredVia" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "downloadedHash" TEXT,
    "downloadedAt" DATETIME,
    "tunnelIp6" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "expiresAt" DATETIME,
    "ownerId" TEXT,
    CONSTRAINT "Peer_wanId_fkey" FOREIGN KEY ("wanId") REFERENCES "Wan" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Peer_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Peer_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Peer" ("autoDeploy", "createdAt", "deliveredAt", "deliveredHash", "deliveredVia", "deviceId", "downloadedAt", "downloadedHash", "enabled", "endpointHost", "endpointPort", "expiresAt", "id", "keepalive", "listenPort", "name", "portForwarded", "privateKeyEnc", "publicKey", "role", "tunnelIp", "tunnelIp6", "updatedAt", "wanId") SELECT "autoDeploy", "createdAt", "deliveredAt", "deliveredHash", "deliveredVia", "deviceId", "downloadedAt", "downloadedHash", "enabled", "endpointHost", "endpointPort", "expiresAt", "id", "keepalive", "listenPort", "name", "portForwarded", "privateKeyEnc", "publicKey", "role", "tunnelIp", "tunnelIp6", "updatedAt", "wanId" FROM "Peer";
DROP TABLE "Peer";
ALTER TABLE "new_Peer" RENAME TO "Peer";
CREATE INDEX "Peer_deviceId_idx" ON "Peer"("deviceId");
CREATE INDEX "Peer_ownerId_idx" ON "Peer"("ownerId");
CREATE UNIQUE INDEX "Peer_wanId_name_key" ON "Peer"("wanId", "name");
CREATE UNIQUE INDEX "Peer_wanId_tunnelIp_key" ON "Peer"("wanId", "tunnelIp");
CREATE UNIQUE INDEX "Peer_wanId_tunnelIp6_key" ON "Peer"("wanId", "tunnelIp6");
CREATE UNIQUE INDEX "Peer_wanId_publicKey_key" ON "Peer"("wanId", "publicKey");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

