-- AlterTable
ALTER TABLE "DeployJob" ADD COLUMN "runnerId" TEXT;

