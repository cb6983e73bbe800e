-- AlterTable
ALTER TABLE "Wan" ADD COLUMN     "tunnelCidr6" TEXT,
ADD COLUMN     "servicesCidr6" TEXT,
ADD COLUMN     "natPool6" TEXT;

-- AlterTable
ALTER TABLE "Peer" ADD COLUMN     "tunnelIp6" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Peer_wanId_tunnelIp6_key" ON "Peer"("wanId", "tunnelIp6");
