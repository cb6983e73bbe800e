-- The directory sync marks the accounts it disabled, so it enables only those again.
ALTER TABLE "User" ADD COLUMN "disabledBySync" BOOLEAN NOT NULL DEFAULT false;
