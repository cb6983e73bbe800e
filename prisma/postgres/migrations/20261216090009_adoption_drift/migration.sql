-- AlterEnum
ALTER TYPE "JobKind" ADD VALUE 'ADOPT';

-- AlterTable
ALTER TABLE "Peer" ADD COLUMN     "driftCheckedAt" TIMESTAMP(3),
ADD COLUMN     "driftItems" TEXT,
ADD COLUMN     "driftSince" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Device" ADD COLUMN     "autoRepair" BOOLEAN NOT NULL DEFAULT false;

