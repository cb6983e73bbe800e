-- CreateTable
CREATE TABLE "TrafficSample" (
    "peerId" TEXT NOT NULL,
    "resolution" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "rxBytes" BIGINT NOT NULL,
    "txBytes" BIGINT NOT NULL,
    "handshakeAgeSeconds" INTEGER,

    CONSTRAINT "TrafficSample_pkey" PRIMARY KEY ("peerId","resolution","at")
);

-- CreateIndex
CREATE INDEX "TrafficSample_resolution_at_idx" ON "TrafficSample"("resolution", "at");

-- AddForeignKey
ALTER TABLE "TrafficSample" ADD CONSTRAINT "TrafficSample_peerId_fkey" FOREIGN KEY ("peerId") REFERENCES "Peer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

