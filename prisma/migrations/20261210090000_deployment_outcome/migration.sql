-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'SUCCEEDED';
ALTER TABLE "Deployment" ADD COLUMN "error" TEXT;
ALTER TABLE "Deployment" ADD COLUMN "leftovers" TEXT;
ALTER TABLE "Deployment" ADD COLUMN "adjusted" TEXT;
