-- AlterTable
-- Every existing peer stays enabled and never expires.
ALTER TABLE "Peer" ADD COLUMN "enabled" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "Peer" ADD COLUMN "expiresAt" DATETIME;
