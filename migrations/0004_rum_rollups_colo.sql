-- Adds the edge location (colo) to the page-view rollup key (owned by rum-collector/src/store;
-- documented in rum-collector/src/store/SCHEMA.md). SQLite cannot change a primary key in
-- place, so the table is rebuilt; rows written before this migration get colo 'unknown' (their
-- page views are not re-split: the raw rows may already be gone by retention).

CREATE TABLE rum_rollups_colo (
  granularity TEXT NOT NULL CHECK (granularity IN ('minute', 'hour', 'day')),
  ts INTEGER NOT NULL,
  site TEXT NOT NULL,
  page_group TEXT NOT NULL,
  device TEXT NOT NULL,
  country TEXT NOT NULL,
  connection TEXT NOT NULL,
  cache_status TEXT NOT NULL,
  colo TEXT NOT NULL DEFAULT 'unknown',
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
  PRIMARY KEY (granularity, site, ts, page_group, device, country, connection, cache_status, colo)
) WITHOUT ROWID;

INSERT INTO rum_rollups_colo (granularity, ts, site, page_group, device, country, connection, cache_status,
  colo, views, version, lcp, inp, cls, fcp, ttfb, queueing, last_mile, last_mile_connect, last_mile_wire, edge,
  middle_mile, backend, download, resource_load_delay, resource_load_duration, element_render_delay)
SELECT granularity, ts, site, page_group, device, country, connection, cache_status,
  'unknown', views, version, lcp, inp, cls, fcp, ttfb, queueing, last_mile, last_mile_connect, last_mile_wire, edge,
  middle_mile, backend, download, resource_load_delay, resource_load_duration, element_render_delay
FROM rum_rollups;

DROP TABLE rum_rollups;
ALTER TABLE rum_rollups_colo RENAME TO rum_rollups;
-- Queries without a site filter scan one granularity by time.
CREATE INDEX rum_rollups_granularity_ts ON rum_rollups (granularity, ts);
