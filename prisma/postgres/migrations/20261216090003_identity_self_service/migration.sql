-- CreateEnum
CREATE TYPE "AuthSource" AS ENUM ('LOCAL', 'OIDC', 'LDAP');

-- AlterEnum
ALTER TYPE "Role" ADD VALUE 'SELF_SERVICE';

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "authSource" "AuthSource" NOT NULL DEFAULT 'LOCAL',
ADD COLUMN     "externalId" TEXT,
ADD COLUMN     "syncedAt" TIMESTAMP(3),
ALTER COLUMN "passwordHash" DROP NOT NULL;

-- AlterTable
ALTER TABLE "Wan" ADD COLUMN     "selfService" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "selfServicePeerLimit" INTEGER NOT NULL DEFAULT 3;

-- AlterTable
ALTER TABLE "Peer" ADD COLUMN     "ownerId" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "User_authSource_externalId_key" ON "User"("authSource", "externalId");

-- CreateIndex
CREATE INDEX "Peer_ownerId_idx" ON "Peer"("ownerId");

-- AddForeignKey
ALTER TABLE "Peer" ADD CONSTRAINT "Peer_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

