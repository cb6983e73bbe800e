-- CreateTable
CREATE TABLE "TrafficSample" (
    "peerId" TEXT NOT NULL,
    "resolution" INTEGER NOT NULL,
    "at" DATETIME NOT NULL,
    "rxBytes" BIGINT NOT NULL,
    "txBytes" BIGINT NOT NULL,
    "handshakeAgeSeconds" INTEGER,

    PRIMARY KEY ("peerId", "resolution", "at"),
    CONSTRAINT "TrafficSample_peerId_fkey" FOREIGN KEY ("peerId") REFERENCES "Peer" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "TrafficSample_resolution_at_idx" ON "TrafficSample"("resolution", "at");

