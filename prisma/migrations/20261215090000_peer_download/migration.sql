-- AlterTable
ALTER TABLE "Peer" ADD COLUMN "downloadedHash" TEXT;
ALTER TABLE "Peer" ADD COLUMN "downloadedAt" DATETIME;

-- A download is recorded apart from what a device confirmed: earlier downloads move to the
-- new columns, and a peer with a device no longer counts one as delivered.
UPDATE "Peer" SET "downloadedHash" = "deliveredHash", "downloadedAt" = "deliveredAt" WHERE "deliveredVia" LIKE 'download:%';
UPDATE "Peer" SET "deliveredHash" = NULL, "deliveredAt" = NULL, "deliveredVia" = NULL WHERE "deviceId" IS NOT NULL AND "deliveredVia" LIKE 'download:%';
