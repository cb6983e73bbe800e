-- AlterTable
ALTER TABLE "Peer" ADD COLUMN "driftCheckedAt" DATETIME;
ALTER TABLE "Peer" ADD COLUMN "driftItems" TEXT;
ALTER TABLE "Peer" ADD COLUMN "driftSince" DATETIME;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Device" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
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
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "autoRepair" BOOLEAN NOT NULL DEFAULT false
);
INSERT INTO "new_Device" ("caPem", "concurrency", "createdAt", "host", "id", "kind", "managementAddress", "name", "port", "secretEnc", "source", "timeoutMs", "tls", "tlsVerify", "updatedAt", "username") SELECT "caPem", "concurrency", "createdAt", "host", "id", "kind", "managementAddress", "name", "port", "secretEnc", "source", "timeoutMs", "tls", "tlsVerify", "updatedAt", "username" FROM "Device";
DROP TABLE "Device";
ALTER TABLE "new_Device" RENAME TO "Device";
CREATE UNIQUE INDEX "Device_name_key" ON "Device"("name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

