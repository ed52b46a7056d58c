-- Predictive prefetch (edge/PREFETCH.md).

-- Navigations previous page → this page, learned by the edge from same-origin Referer headers of
-- HTML page requests (never from speculative requests), counted per isolate and added here per
-- hour. The collector's cron rebuilds the model from the recent hours (bounded) into KV.
CREATE TABLE prefetch_transitions (
  site TEXT NOT NULL,
  hour INTEGER NOT NULL,          -- epoch ms of the hour start
  from_path TEXT NOT NULL,        -- Referer path (no query)
  to_path TEXT NOT NULL,          -- requested page path (no query)
  n INTEGER NOT NULL,             -- navigations in that hour
  PRIMARY KEY (site, hour, from_path, to_path)
);
CREATE INDEX prefetch_transitions_hour ON prefetch_transitions (hour);

-- Speculative requests the edge served (Sec-Purpose: prefetch), per arm (from the browser's
-- Sec-Speculation-Tags: ours | press; "edge" for cache warming; "unknown" untagged) and kind
-- (prefetch | prerender | warm): the cost side of the experiment.
CREATE TABLE prefetch_speculations (
  site TEXT NOT NULL,
  hour INTEGER NOT NULL,
  arm TEXT NOT NULL,
  kind TEXT NOT NULL,
  requests INTEGER NOT NULL,
  bytes INTEGER NOT NULL,          -- Content-Length of the responses (0 when unknown)
  origin_requests INTEGER NOT NULL, -- responses the edge fetched from the origin (MISS/EXPIRED/BYPASS)
  PRIMARY KEY (site, hour, arm, kind)
);

-- One row per site: the last model rebuild (by the cron).
CREATE TABLE prefetch_model_builds (
  site TEXT PRIMARY KEY,
  built_ts INTEGER NOT NULL,
  transitions INTEGER NOT NULL,    -- rows read
  rows INTEGER NOT NULL,           -- context rows in the stored model
  bytes INTEGER NOT NULL           -- JSON bytes written to KV
);
