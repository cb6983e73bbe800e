// Bounds on what one adoption request may make the server read and hold: an import is parsed
// whole and a proposal is built in memory, so both are capped before any work starts.

/** Files in one import. */
export const MAX_IMPORT_FILES = 200;
/** Bytes of one file (a hub's config with a thousand peers is about 200 KiB; 64 KiB holds ~300). */
export const MAX_IMPORT_FILE_BYTES = 64 * 1024;
/** Bytes of all files of one import together (the request body limit, 1 MB, applies first over HTTP). */
export const MAX_IMPORT_TOTAL_BYTES = 2 * 1024 * 1024;
/** Peers one proposal may hold (one WAN's worth; the WAN page lists 1,000 at once). */
export const MAX_PROPOSAL_PEERS = 1000;
/** Device readings kept for reuse by propose/adopt, and for how long. */
export const DISCOVERY_CACHE_ENTRIES = 64;
export const DISCOVERY_CACHE_MS = 3 * 60_000;
