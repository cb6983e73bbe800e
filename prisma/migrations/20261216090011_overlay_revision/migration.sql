-- AlterTable
ALTER TABLE "Wan" ADD COLUMN "overlayRevision" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "OverlayChange" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "wanId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "entity" TEXT NOT NULL,
    "entityId" TEXT NOT NULL,
    "deleted" BOOLEAN NOT NULL DEFAULT false
);

-- CreateIndex
CREATE UNIQUE INDEX "OverlayChange_wanId_revision_key" ON "OverlayChange"("wanId", "revision");

-- Wan.overlayRevision and the OverlayChange journal are written only here: every change to what a
-- WAN's overlay is made of bumps the revision and names the row, in the writer's own transaction
-- (services/overlay/overlay-cache.ts reads them). Delivery and monitor columns are left out.
-- OVERLAY_COLUMNS in services/overlay/overlay-spec.ts must stay within each UPDATE OF list (a test checks).

CREATE TRIGGER "overlay_peer_insert" AFTER INSERT ON "Peer" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = NEW."wanId";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'PEER', NEW."id", false FROM "Wan" WHERE "id" = NEW."wanId";
  DELETE FROM "OverlayChange" WHERE "wanId" = NEW."wanId" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = NEW."wanId");
END;

CREATE TRIGGER "overlay_peer_update" AFTER UPDATE OF "wanId", "name", "role", "tunnelIp", "tunnelIp6", "publicKey", "privateKeyEnc", "endpointHost", "endpointPort", "listenPort", "keepalive", "portForwarded", "deviceId", "enabled" ON "Peer" WHEN OLD."wanId" IS NOT NEW."wanId" OR OLD."name" IS NOT NEW."name" OR OLD."role" IS NOT NEW."role" OR OLD."tunnelIp" IS NOT NEW."tunnelIp" OR OLD."tunnelIp6" IS NOT NEW."tunnelIp6" OR OLD."publicKey" IS NOT NEW."publicKey" OR OLD."privateKeyEnc" IS NOT NEW."privateKeyEnc" OR OLD."endpointHost" IS NOT NEW."endpointHost" OR OLD."endpointPort" IS NOT NEW."endpointPort" OR OLD."listenPort" IS NOT NEW."listenPort" OR OLD."keepalive" IS NOT NEW."keepalive" OR OLD."portForwarded" IS NOT NEW."portForwarded" OR OLD."deviceId" IS NOT NEW."deviceId" OR OLD."enabled" IS NOT NEW."enabled" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = NEW."wanId";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'PEER', NEW."id", false FROM "Wan" WHERE "id" = NEW."wanId";
  DELETE FROM "OverlayChange" WHERE "wanId" = NEW."wanId" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = NEW."wanId");
END;

CREATE TRIGGER "overlay_peer_delete" AFTER DELETE ON "Peer" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = OLD."wanId";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'PEER', OLD."id", true FROM "Wan" WHERE "id" = OLD."wanId";
  DELETE FROM "OverlayChange" WHERE "wanId" = OLD."wanId" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = OLD."wanId");
END;

CREATE TRIGGER "overlay_subnet_insert" AFTER INSERT ON "Subnet" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = (SELECT "wanId" FROM "Peer" WHERE "id" = NEW."peerId");
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'SUBNET', NEW."id", false FROM "Wan" WHERE "id" = (SELECT "wanId" FROM "Peer" WHERE "id" = NEW."peerId");
  DELETE FROM "OverlayChange" WHERE "wanId" = (SELECT "wanId" FROM "Peer" WHERE "id" = NEW."peerId") AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = (SELECT "wanId" FROM "Peer" WHERE "id" = NEW."peerId"));
END;

CREATE TRIGGER "overlay_subnet_update" AFTER UPDATE OF "peerId", "cidr", "routed", "natCidr", "description" ON "Subnet" WHEN OLD."peerId" IS NOT NEW."peerId" OR OLD."cidr" IS NOT NEW."cidr" OR OLD."routed" IS NOT NEW."routed" OR OLD."natCidr" IS NOT NEW."natCidr" OR OLD."description" IS NOT NEW."description" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = (SELECT "wanId" FROM "Peer" WHERE "id" = NEW."peerId");
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'SUBNET', NEW."id", false FROM "Wan" WHERE "id" = (SELECT "wanId" FROM "Peer" WHERE "id" = NEW."peerId");
  DELETE FROM "OverlayChange" WHERE "wanId" = (SELECT "wanId" FROM "Peer" WHERE "id" = NEW."peerId") AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = (SELECT "wanId" FROM "Peer" WHERE "id" = NEW."peerId"));
END;

CREATE TRIGGER "overlay_subnet_delete" AFTER DELETE ON "Subnet" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = (SELECT "wanId" FROM "Peer" WHERE "id" = OLD."peerId");
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'SUBNET', OLD."id", true FROM "Wan" WHERE "id" = (SELECT "wanId" FROM "Peer" WHERE "id" = OLD."peerId");
  DELETE FROM "OverlayChange" WHERE "wanId" = (SELECT "wanId" FROM "Peer" WHERE "id" = OLD."peerId") AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = (SELECT "wanId" FROM "Peer" WHERE "id" = OLD."peerId"));
END;

CREATE TRIGGER "overlay_publishedservice_insert" AFTER INSERT ON "PublishedService" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = NEW."wanId";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'SERVICE', NEW."id", false FROM "Wan" WHERE "id" = NEW."wanId";
  DELETE FROM "OverlayChange" WHERE "wanId" = NEW."wanId" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = NEW."wanId");
END;

CREATE TRIGGER "overlay_publishedservice_update" AFTER UPDATE OF "wanId", "peerId", "name", "protocol", "localIp", "localPort", "serviceIp", "servicePort" ON "PublishedService" WHEN OLD."wanId" IS NOT NEW."wanId" OR OLD."peerId" IS NOT NEW."peerId" OR OLD."name" IS NOT NEW."name" OR OLD."protocol" IS NOT NEW."protocol" OR OLD."localIp" IS NOT NEW."localIp" OR OLD."localPort" IS NOT NEW."localPort" OR OLD."serviceIp" IS NOT NEW."serviceIp" OR OLD."servicePort" IS NOT NEW."servicePort" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = NEW."wanId";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'SERVICE', NEW."id", false FROM "Wan" WHERE "id" = NEW."wanId";
  DELETE FROM "OverlayChange" WHERE "wanId" = NEW."wanId" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = NEW."wanId");
END;

CREATE TRIGGER "overlay_publishedservice_delete" AFTER DELETE ON "PublishedService" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = OLD."wanId";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'SERVICE', OLD."id", true FROM "Wan" WHERE "id" = OLD."wanId";
  DELETE FROM "OverlayChange" WHERE "wanId" = OLD."wanId" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = OLD."wanId");
END;

CREATE TRIGGER "overlay_presharedkey_insert" AFTER INSERT ON "PresharedKey" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = NEW."wanId";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'PSK', NEW."id", false FROM "Wan" WHERE "id" = NEW."wanId";
  DELETE FROM "OverlayChange" WHERE "wanId" = NEW."wanId" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = NEW."wanId");
END;

CREATE TRIGGER "overlay_presharedkey_update" AFTER UPDATE OF "wanId", "peerAId", "peerBId", "keyEnc" ON "PresharedKey" WHEN OLD."wanId" IS NOT NEW."wanId" OR OLD."peerAId" IS NOT NEW."peerAId" OR OLD."peerBId" IS NOT NEW."peerBId" OR OLD."keyEnc" IS NOT NEW."keyEnc" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = NEW."wanId";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'PSK', NEW."id", false FROM "Wan" WHERE "id" = NEW."wanId";
  DELETE FROM "OverlayChange" WHERE "wanId" = NEW."wanId" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = NEW."wanId");
END;

CREATE TRIGGER "overlay_presharedkey_delete" AFTER DELETE ON "PresharedKey" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = OLD."wanId";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'PSK', OLD."id", true FROM "Wan" WHERE "id" = OLD."wanId";
  DELETE FROM "OverlayChange" WHERE "wanId" = OLD."wanId" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = OLD."wanId");
END;

CREATE TRIGGER "overlay_wan_update" AFTER UPDATE OF "name", "tunnelCidr", "servicesCidr", "natPool", "topology", "listenPort", "mtu", "keepalive", "interfaceName", "hubRedundancy", "tunnelCidr6", "servicesCidr6", "natPool6" ON "Wan" WHEN OLD."name" IS NOT NEW."name" OR OLD."tunnelCidr" IS NOT NEW."tunnelCidr" OR OLD."servicesCidr" IS NOT NEW."servicesCidr" OR OLD."natPool" IS NOT NEW."natPool" OR OLD."topology" IS NOT NEW."topology" OR OLD."listenPort" IS NOT NEW."listenPort" OR OLD."mtu" IS NOT NEW."mtu" OR OLD."keepalive" IS NOT NEW."keepalive" OR OLD."interfaceName" IS NOT NEW."interfaceName" OR OLD."hubRedundancy" IS NOT NEW."hubRedundancy" OR OLD."tunnelCidr6" IS NOT NEW."tunnelCidr6" OR OLD."servicesCidr6" IS NOT NEW."servicesCidr6" OR OLD."natPool6" IS NOT NEW."natPool6" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = NEW."id";
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'WAN', NEW."id", false FROM "Wan" WHERE "id" = NEW."id";
  DELETE FROM "OverlayChange" WHERE "wanId" = NEW."id" AND "revision" <= (SELECT "overlayRevision" - 4096 FROM "Wan" WHERE "id" = NEW."id");
END;

CREATE TRIGGER "overlay_wan_delete" AFTER DELETE ON "Wan" BEGIN
  DELETE FROM "OverlayChange" WHERE "wanId" = OLD."id";
END;

CREATE TRIGGER "overlay_device_update" AFTER UPDATE OF "kind" ON "Device" WHEN OLD."kind" IS NOT NEW."kind" BEGIN
  UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" IN (SELECT "wanId" FROM "Peer" WHERE "deviceId" = NEW."id");
  INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") SELECT "id", "overlayRevision", 'DEVICE', NEW."id", false FROM "Wan" WHERE "id" IN (SELECT "wanId" FROM "Peer" WHERE "deviceId" = NEW."id");
END;
