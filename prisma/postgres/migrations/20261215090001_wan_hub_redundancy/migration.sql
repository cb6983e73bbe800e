-- AlterTable
ALTER TABLE "Wan" ADD COLUMN     "hubRedundancy" BOOLEAN NOT NULL DEFAULT false;

