-- AlterTable
-- SQLite adds a NOT NULL column with a constant default in place: no copy of the Wan table
-- (whose peers, keys and jobs cascade from it) is needed.
ALTER TABLE "Wan" ADD COLUMN "hubRedundancy" BOOLEAN NOT NULL DEFAULT false;
