-- AlterTable
ALTER TABLE "Wan" ADD COLUMN     "overlayRevision" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "OverlayChange" (
    "id" SERIAL NOT NULL,
    "wanId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "entity" TEXT NOT NULL,
    "entityId" TEXT NOT NULL,
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "OverlayChange_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "OverlayChange_wanId_revision_key" ON "OverlayChange"("wanId", "revision");


-- Wan.overlayRevision and the OverlayChange journal are written only here: every change to what a
-- WAN's overlay is made of bumps the revision and names the row, in the writer's own transaction
-- (services/overlay/overlay-cache.ts reads them). Delivery and monitor columns are left out.
-- OVERLAY_COLUMNS in services/overlay/overlay-spec.ts must stay within each UPDATE OF list (a test checks).
-- adapter-pg splits a migration at every semicolon: the function bodies write theirs as the
-- escape \073 inside E'' strings.

CREATE FUNCTION "overlay_bump"(p_wan TEXT, p_entity TEXT, p_id TEXT, p_deleted BOOLEAN) RETURNS void LANGUAGE plpgsql AS E'DECLARE rev INTEGER\073 BEGIN UPDATE "Wan" SET "overlayRevision" = "overlayRevision" + 1 WHERE "id" = p_wan RETURNING "overlayRevision" INTO rev\073 IF rev IS NOT NULL THEN INSERT INTO "OverlayChange" ("wanId", "revision", "entity", "entityId", "deleted") VALUES (p_wan, rev, p_entity, p_id, p_deleted)\073 DELETE FROM "OverlayChange" WHERE "wanId" = p_wan AND "revision" <= rev - 4096\073 END IF\073 END';

CREATE FUNCTION "overlay_peer_changed"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN IF TG_OP = ''DELETE'' THEN PERFORM "overlay_bump"(OLD."wanId", ''PEER'', OLD."id", true)\073 ELSE PERFORM "overlay_bump"(NEW."wanId", ''PEER'', NEW."id", false)\073 END IF\073 RETURN NULL\073 END';

CREATE TRIGGER "overlay_peer_insert_delete" AFTER INSERT OR DELETE ON "Peer" FOR EACH ROW EXECUTE FUNCTION "overlay_peer_changed"();

CREATE TRIGGER "overlay_peer_update" AFTER UPDATE OF "wanId", "name", "role", "tunnelIp", "tunnelIp6", "publicKey", "privateKeyEnc", "endpointHost", "endpointPort", "listenPort", "keepalive", "portForwarded", "deviceId", "enabled" ON "Peer" FOR EACH ROW WHEN (OLD."wanId" IS DISTINCT FROM NEW."wanId" OR OLD."name" IS DISTINCT FROM NEW."name" OR OLD."role" IS DISTINCT FROM NEW."role" OR OLD."tunnelIp" IS DISTINCT FROM NEW."tunnelIp" OR OLD."tunnelIp6" IS DISTINCT FROM NEW."tunnelIp6" OR OLD."publicKey" IS DISTINCT FROM NEW."publicKey" OR OLD."privateKeyEnc" IS DISTINCT FROM NEW."privateKeyEnc" OR OLD."endpointHost" IS DISTINCT FROM NEW."endpointHost" OR OLD."endpointPort" IS DISTINCT FROM NEW."endpointPort" OR OLD."listenPort" IS DISTINCT FROM NEW."listenPort" OR OLD."keepalive" IS DISTINCT FROM NEW."keepalive" OR OLD."portForwarded" IS DISTINCT FROM NEW."portForwarded" OR OLD."deviceId" IS DISTINCT FROM NEW."deviceId" OR OLD."enabled" IS DISTINCT FROM NEW."enabled") EXECUTE FUNCTION "overlay_peer_changed"();

CREATE FUNCTION "overlay_subnet_changed"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN IF TG_OP = ''DELETE'' THEN PERFORM "overlay_bump"((SELECT "wanId" FROM "Peer" WHERE "id" = OLD."peerId"), ''SUBNET'', OLD."id", true)\073 ELSE PERFORM "overlay_bump"((SELECT "wanId" FROM "Peer" WHERE "id" = NEW."peerId"), ''SUBNET'', NEW."id", false)\073 END IF\073 RETURN NULL\073 END';

CREATE TRIGGER "overlay_subnet_insert_delete" AFTER INSERT OR DELETE ON "Subnet" FOR EACH ROW EXECUTE FUNCTION "overlay_subnet_changed"();

CREATE TRIGGER "overlay_subnet_update" AFTER UPDATE OF "peerId", "cidr", "routed", "natCidr", "description" ON "Subnet" FOR EACH ROW WHEN (OLD."peerId" IS DISTINCT FROM NEW."peerId" OR OLD."cidr" IS DISTINCT FROM NEW."cidr" OR OLD."routed" IS DISTINCT FROM NEW."routed" OR OLD."natCidr" IS DISTINCT FROM NEW."natCidr" OR OLD."description" IS DISTINCT FROM NEW."description") EXECUTE FUNCTION "overlay_subnet_changed"();

CREATE FUNCTION "overlay_publishedservice_changed"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN IF TG_OP = ''DELETE'' THEN PERFORM "overlay_bump"(OLD."wanId", ''SERVICE'', OLD."id", true)\073 ELSE PERFORM "overlay_bump"(NEW."wanId", ''SERVICE'', NEW."id", false)\073 END IF\073 RETURN NULL\073 END';

CREATE TRIGGER "overlay_publishedservice_insert_delete" AFTER INSERT OR DELETE ON "PublishedService" FOR EACH ROW EXECUTE FUNCTION "overlay_publishedservice_changed"();

CREATE TRIGGER "overlay_publishedservice_update" AFTER UPDATE OF "wanId", "peerId", "name", "protocol", "localIp", "localPort", "serviceIp", "servicePort" ON "PublishedService" FOR EACH ROW WHEN (OLD."wanId" IS DISTINCT FROM NEW."wanId" OR OLD."peerId" IS DISTINCT FROM NEW."peerId" OR OLD."name" IS DISTINCT FROM NEW."name" OR OLD."protocol" IS DISTINCT FROM NEW."protocol" OR OLD."localIp" IS DISTINCT FROM NEW."localIp" OR OLD."localPort" IS DISTINCT FROM NEW."localPort" OR OLD."serviceIp" IS DISTINCT FROM NEW."serviceIp" OR OLD."servicePort" IS DISTINCT FROM NEW."servicePort") EXECUTE FUNCTION "overlay_publishedservice_changed"();

CREATE FUNCTION "overlay_presharedkey_changed"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN IF TG_OP = ''DELETE'' THEN PERFORM "overlay_bump"(OLD."wanId", ''PSK'', OLD."id", true)\073 ELSE PERFORM "overlay_bump"(NEW."wanId", ''PSK'', NEW."id", false)\073 END IF\073 RETURN NULL\073 END';

CREATE TRIGGER "overlay_presharedkey_insert_delete" AFTER INSERT OR DELETE ON "PresharedKey" FOR EACH ROW EXECUTE FUNCTION "overlay_presharedkey_changed"();

CREATE TRIGGER "overlay_presharedkey_update" AFTER UPDATE OF "wanId", "peerAId", "peerBId", "keyEnc" ON "PresharedKey" FOR EACH ROW WHEN (OLD."wanId" IS DISTINCT FROM NEW."wanId" OR OLD."peerAId" IS DISTINCT FROM NEW."peerAId" OR OLD."peerBId" IS DISTINCT FROM NEW."peerBId" OR OLD."keyEnc" IS DISTINCT FROM NEW."keyEnc") EXECUTE FUNCTION "overlay_presharedkey_changed"();

CREATE FUNCTION "overlay_wan_changed"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN IF TG_OP = ''DELETE'' THEN DELETE FROM "OverlayChange" WHERE "wanId" = OLD."id"\073 ELSE PERFORM "overlay_bump"(NEW."id", ''WAN'', NEW."id", false)\073 END IF\073 RETURN NULL\073 END';

CREATE TRIGGER "overlay_wan_update" AFTER UPDATE OF "name", "tunnelCidr", "servicesCidr", "natPool", "topology", "listenPort", "mtu", "keepalive", "interfaceName", "hubRedundancy", "tunnelCidr6", "servicesCidr6", "natPool6" ON "Wan" FOR EACH ROW WHEN (OLD."name" IS DISTINCT FROM NEW."name" OR OLD."tunnelCidr" IS DISTINCT FROM NEW."tunnelCidr" OR OLD."servicesCidr" IS DISTINCT FROM NEW."servicesCidr" OR OLD."natPool" IS DISTINCT FROM NEW."natPool" OR OLD."topology" IS DISTINCT FROM NEW."topology" OR OLD."listenPort" IS DISTINCT FROM NEW."listenPort" OR OLD."mtu" IS DISTINCT FROM NEW."mtu" OR OLD."keepalive" IS DISTINCT FROM NEW."keepalive" OR OLD."interfaceName" IS DISTINCT FROM NEW."interfaceName" OR OLD."hubRedundancy" IS DISTINCT FROM NEW."hubRedundancy" OR OLD."tunnelCidr6" IS DISTINCT FROM NEW."tunnelCidr6" OR OLD."servicesCidr6" IS DISTINCT FROM NEW."servicesCidr6" OR OLD."natPool6" IS DISTINCT FROM NEW."natPool6") EXECUTE FUNCTION "overlay_wan_changed"();

CREATE TRIGGER "overlay_wan_delete" AFTER DELETE ON "Wan" FOR EACH ROW EXECUTE FUNCTION "overlay_wan_changed"();

CREATE FUNCTION "overlay_device_changed"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN PERFORM "overlay_bump"(w."wanId", ''DEVICE'', NEW."id", false) FROM (SELECT DISTINCT "wanId" FROM "Peer" WHERE "deviceId" = NEW."id") w\073 RETURN NULL\073 END';

CREATE TRIGGER "overlay_device_update" AFTER UPDATE OF "kind" ON "Device" FOR EACH ROW WHEN (OLD."kind" IS DISTINCT FROM NEW."kind") EXECUTE FUNCTION "overlay_device_changed"();
