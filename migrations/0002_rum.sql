-- RUM storage (owned by rum-collector/src/store; documented in rum-collector/src/store/SCHEMA.md).
-- Times are ms since the Unix epoch (UTC); durations are ms (REAL); CLS is unitless.

-- One row per page view (beacon), written once per (site, pvid) by the queue consumer.
-- A later beacon of the same page view (higher seq) only raises inp/cls (they only grow).
-- The dimension columns that key the rollups are stored so an update can find its rollup rows.
CREATE TABLE rum_page_views (
  site TEXT NOT NULL,
  pvid TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,                 -- collector receive time of the first beacon
  updated_ts INTEGER NOT NULL,         -- receive time of the beacon that last changed the row
  rid TEXT,                            -- edge request id (joins rum_edge_log)
  page_group TEXT NOT NULL,
  path TEXT NOT NULL,                  -- URL path without query
  country TEXT NOT NULL,
  colo TEXT NOT NULL,
  asn INTEGER NOT NULL,
  device TEXT NOT NULL,
  browser TEXT NOT NULL,
  connection TEXT NOT NULL,            -- effective connection type or 'unknown'
  cache_status TEXT NOT NULL,          -- HIT | MISS | STALE | EXPIRED | BYPASS | NONE
  save_data INTEGER,                   -- 0/1, NULL when not reported
  nav_type TEXT,
  delivery_type TEXT,
  holdout INTEGER,                     -- 0/1 prefetch holdout, NULL when not in the experiment
  sample_rate REAL NOT NULL DEFAULT 1, -- share of page views kept at intake (weight = 1 / sample_rate)
  viewport_w INTEGER,
  viewport_h INTEGER,
  dpr REAL,
  lcp REAL,
  inp REAL,
  cls REAL,
  fcp REAL,
  ttfb REAL,                           -- attribution TTFB (from activation for prerendered pages)
  queueing REAL,
  last_mile REAL,
  last_mile_connect REAL,
  last_mile_wire REAL,
  edge REAL,
  middle_mile REAL,
  backend REAL,                        -- NULL = unknown (origin sent no app timing)
  origin_as_one_part INTEGER NOT NULL DEFAULT 0,
  edge_measured INTEGER NOT NULL DEFAULT 1,
  download REAL,
  resource_load_delay REAL,            -- render parts: LCP − TTFB split by LCP sub-parts
  resource_load_duration REAL,
  element_render_delay REAL,
  PRIMARY KEY (site, pvid)
);
CREATE INDEX rum_page_views_ts ON rum_page_views (ts);
CREATE INDEX rum_page_views_site_ts ON rum_page_views (site, ts);

-- One row per HTML response the edge served (idempotent on rid).
CREATE TABLE rum_edge_log (
  rid TEXT PRIMARY KEY,
  ts INTEGER NOT NULL,
  site TEXT NOT NULL,
  page_group TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  cache_status TEXT NOT NULL,
  edge_ms REAL NOT NULL,
  origin_ms REAL,
  app_ms REAL,
  country TEXT NOT NULL,
  colo TEXT NOT NULL,
  device TEXT NOT NULL,
  browser TEXT NOT NULL
);
CREATE INDEX rum_edge_log_ts ON rum_edge_log (ts);

-- Rollups: one row per granularity × bucket start × site × page group × device × country ×
-- connection × cache status, one sketch column per metric (common/src/sketch.ts bytes; NULL when
-- no value). `views` counts page views; each sketch has its own count. `version` is bumped on
-- every write so concurrent consumers detect a lost read-modify-write and retry.
CREATE TABLE rum_rollups (
  granularity TEXT NOT NULL CHECK (granularity IN ('minute', 'hour', 'day')),
  ts INTEGER NOT NULL,
  site TEXT NOT NULL,
  page_group TEXT NOT NULL,
  device TEXT NOT NULL,
  country TEXT NOT NULL,
  connection TEXT NOT NULL,
  cache_status TEXT NOT NULL,
  views INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  lcp BLOB,
  inp BLOB,
  cls BLOB,
  fcp BLOB,
  ttfb BLOB,
  queueing BLOB,
  last_mile BLOB,
  last_mile_connect BLOB,
  last_mile_wire BLOB,
  edge BLOB,
  middle_mile BLOB,
  backend BLOB,
  download BLOB,
  resource_load_delay BLOB,
  resource_load_duration BLOB,
  element_render_delay BLOB,
  PRIMARY KEY (granularity, site, ts, page_group, device, country, connection, cache_status)
) WITHOUT ROWID;
-- Queries without a site filter scan one granularity by time.
CREATE INDEX rum_rollups_granularity_ts ON rum_rollups (granularity, ts);

-- Downsampling watermarks: rollups of `granularity` exist for every bucket before done_until.
CREATE TABLE rum_rollup_state (
  granularity TEXT PRIMARY KEY CHECK (granularity IN ('hour', 'day')),
  done_until INTEGER NOT NULL
);

-- Beacon coverage counters per hour × site × page group × browser, kept by triggers so that a
-- duplicate page view or edge log message (ignored by ON CONFLICT) never counts twice.
CREATE TABLE rum_coverage (
  ts INTEGER NOT NULL,
  site TEXT NOT NULL,
  page_group TEXT NOT NULL,
  browser TEXT NOT NULL,
  beacons INTEGER NOT NULL DEFAULT 0,
  edge_views INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site, ts, page_group, browser)
) WITHOUT ROWID;

CREATE TRIGGER rum_coverage_beacon AFTER INSERT ON rum_page_views BEGIN
  INSERT INTO rum_coverage (ts, site, page_group, browser, beacons)
  VALUES (NEW.ts - NEW.ts % 3600000, NEW.site, NEW.page_group, NEW.browser, 1)
  ON CONFLICT (site, ts, page_group, browser) DO UPDATE SET beacons = beacons + 1;
END;

CREATE TRIGGER rum_coverage_edge AFTER INSERT ON rum_edge_log WHEN NEW.status >= 200 AND NEW.status < 400 BEGIN
  INSERT INTO rum_coverage (ts, site, page_group, browser, edge_views)
  VALUES (NEW.ts - NEW.ts % 3600000, NEW.site, NEW.page_group, NEW.browser, 1)
  ON CONFLICT (site, ts, page_group, browser) DO UPDATE SET edge_views = edge_views + 1;
END;

-- Write guard: a statement `INSERT INTO rum_write_guard (ok) VALUES (<condition>)` fails the
-- CHECK when the condition is 0, which rolls back the whole D1 batch (optimistic concurrency).
-- At most one row (ok = 1) ever exists.
CREATE TABLE rum_write_guard (
  ok INTEGER PRIMARY KEY CHECK (ok = 1)
);
