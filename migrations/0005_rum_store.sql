-- RUM store, issue 14 (owned by rum-collector/src/store; documented in
-- rum-collector/src/store/SCHEMA.md): the beacon's session/experiment/conversion fields, the
-- edge-verification marker, the pending join, capped page groups and resumable cron steps.

-- Session and prefetch-experiment fields of the beacon (the dashboards query these names).
ALTER TABLE rum_page_views ADD COLUMN session_id TEXT;
ALTER TABLE rum_page_views ADD COLUMN prev_pvid TEXT;
-- arm: holdout | ours | press
ALTER TABLE rum_page_views ADD COLUMN arm TEXT;
ALTER TABLE rum_page_views ADD COLUMN converted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rum_page_views ADD COLUMN conversion_value REAL;
-- Fields the intake dropped as invalid (the rest of the beacon was kept).
ALTER TABLE rum_page_views ADD COLUMN invalid_fields INTEGER NOT NULL DEFAULT 0;
-- 1 = the edge, edge-middle mile and backend parts come from the edge's own log record for this
-- rid; 0 = unverified (no rid, or no edge record within the join window): browser timings only.
ALTER TABLE rum_page_views ADD COLUMN edge_verified INTEGER NOT NULL DEFAULT 0;
-- The page view's latest queue message (JSON) while it waits for its edge record; NULL once it
-- is rolled up (verified when the record came, unverified after the join window).
ALTER TABLE rum_page_views ADD COLUMN pending TEXT;
CREATE INDEX rum_page_views_pending_rid ON rum_page_views (rid) WHERE pending IS NOT NULL;
CREATE INDEX rum_page_views_pending_ts ON rum_page_views (ts) WHERE pending IS NOT NULL;

-- Rows written before this migration were joined to nothing; those whose rid the edge logged
-- were served by our edge, so their split stays trusted.
UPDATE rum_page_views SET edge_verified = 1
WHERE rid IS NOT NULL AND EXISTS (SELECT 1 FROM rum_edge_log e WHERE e.rid = rum_page_views.rid);

-- Page groups admitted per site (at most RUM_MAX_PAGE_GROUPS; later ones count as '(other)').
CREATE TABLE rum_page_groups (
  site TEXT NOT NULL,
  page_group TEXT NOT NULL,
  first_ts INTEGER NOT NULL,
  PRIMARY KEY (site, page_group)
) WITHOUT ROWID;
INSERT OR IGNORE INTO rum_page_groups (site, page_group, first_ts)
SELECT site, page_group, MIN(ts) FROM rum_rollups GROUP BY site, page_group;

-- Where each cron step stopped (a step resumes there on the next run).
CREATE TABLE rum_cron_state (
  step TEXT PRIMARY KEY,
  cursor TEXT,
  updated_ts INTEGER NOT NULL,
  last_error TEXT
);

-- Page-group totals: rollup rows whose device, country, connection, cache status and colo are
-- all '*' (every value) hold the same sketches summed over those dimensions, so a query by page
-- group alone reads one row per page group and bucket. They exist from 'totals_since' on (the
-- next UTC day after the newest rollup row at migration time; 0 on an empty store).
CREATE INDEX rum_rollups_totals ON rum_rollups (granularity, ts) WHERE device = '*';
INSERT INTO rum_cron_state (step, cursor, updated_ts)
SELECT 'totals_since', CAST(COALESCE((MAX(ts) / 86400000 + 1) * 86400000, 0) AS TEXT), 0 FROM rum_rollups;
