-- AlterTable
-- Dual-stack WANs: nullable columns (null = IPv4 only), so existing WANs and peers keep
-- exactly what they had. Added in the schema's order (a fresh database must match).
ALTER TABLE "Wan" ADD COLUMN "tunnelCidr6" TEXT;
ALTER TABLE "Wan" ADD COLUMN "servicesCidr6" TEXT;
ALTER TABLE "Wan" ADD COLUMN "natPool6" TEXT;

-- AlterTable
ALTER TABLE "Peer" ADD COLUMN "tunnelIp6" TEXT;

-- CreateIndex
-- NULLs are distinct in a unique index, so IPv4-only peers do not collide; two replicas
-- allocating the same IPv6 address do, and the loser retries (services/peers.ts).
CREATE UNIQUE INDEX "Peer_wanId_tunnelIp6_key" ON "Peer"("wanId", "tunnelIp6");
