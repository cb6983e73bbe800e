-- Wan.overlayRevision only grows: a writer that writes back a revision it read earlier would
-- reuse revisions the journal already holds and leave cached overlay views stale. Refused loudly.
CREATE TRIGGER "overlay_revision_guard" BEFORE UPDATE OF "overlayRevision" ON "Wan" WHEN NEW."overlayRevision" < OLD."overlayRevision" BEGIN
  SELECT RAISE(ABORT, 'Wan.overlayRevision is kept by the database and only grows: do not write it');
END;
