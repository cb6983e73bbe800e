-- Wan.overlayRevision only grows: a writer that writes back a revision it read earlier would
-- reuse revisions the journal already holds and leave cached overlay views stale. Refused loudly.
-- (adapter-pg splits a migration at every semicolon: the body writes its own as \073.)
CREATE FUNCTION "overlay_revision_guard"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN RAISE EXCEPTION ''Wan.overlayRevision is kept by the database and only grows: do not write it''\073 END';

CREATE TRIGGER "overlay_revision_guard" BEFORE UPDATE OF "overlayRevision" ON "Wan" FOR EACH ROW WHEN (NEW."overlayRevision" < OLD."overlayRevision") EXECUTE FUNCTION "overlay_revision_guard"();
