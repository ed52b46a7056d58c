-- RUM image log and image rollups (owned by rum-collector/src/store; documented in
-- rum-collector/src/store/SCHEMA.md). One row per image response the edge served
-- (ImageLogMessage), rolled up per minute × site × format × device × cache status by a trigger,
-- so that a duplicate rid (ignored by ON CONFLICT) never counts twice.

CREATE TABLE rum_image_log (
  rid TEXT PRIMARY KEY,
  ts INTEGER NOT NULL,
  site TEXT NOT NULL,
  format TEXT NOT NULL,                -- avif | webp | jpeg | png | gif | original (fallback)
  device TEXT NOT NULL,
  width INTEGER,                       -- NULL for a fallback
  cache_status TEXT NOT NULL,
  original_bytes INTEGER,              -- NULL when unknown
  delivered_bytes INTEGER,             -- NULL when unknown
  fallback INTEGER NOT NULL,           -- 0/1
  sample_rate REAL NOT NULL DEFAULT 1  -- edge sample rate; the record weighs 1 / sample_rate
);
CREATE INDEX rum_image_log_ts ON rum_image_log (ts);

-- Additive counters (weighted by 1 / sample_rate), so downsampling is a SUM in SQL.
-- Bytes are summed only over records that know both byte counts (`measured`), so bytes saved
-- is never distorted by a record with one side unknown.
CREATE TABLE rum_image_rollups (
  granularity TEXT NOT NULL CHECK (granularity IN ('minute', 'hour', 'day')),
  ts INTEGER NOT NULL,
  site TEXT NOT NULL,
  format TEXT NOT NULL,
  device TEXT NOT NULL,
  cache_status TEXT NOT NULL,
  samples INTEGER NOT NULL DEFAULT 0,        -- records stored (unweighted)
  images REAL NOT NULL DEFAULT 0,            -- Σ weight
  measured REAL NOT NULL DEFAULT 0,          -- Σ weight of records with both byte counts
  original_bytes REAL NOT NULL DEFAULT 0,    -- Σ weight × original_bytes (measured records)
  delivered_bytes REAL NOT NULL DEFAULT 0,   -- Σ weight × delivered_bytes (measured records)
  fallbacks REAL NOT NULL DEFAULT 0,         -- Σ weight of fallbacks (original bytes served)
  PRIMARY KEY (granularity, site, ts, format, device, cache_status)
) WITHOUT ROWID;
CREATE INDEX rum_image_rollups_granularity_ts ON rum_image_rollups (granularity, ts);

-- Downsampling watermarks of the image rollups: rows of `granularity` exist for every bucket
-- before done_until (kept apart from rum_rollup_state: the two are downsampled independently).
CREATE TABLE rum_image_rollup_state (
  granularity TEXT PRIMARY KEY CHECK (granularity IN ('hour', 'day')),
  done_until INTEGER NOT NULL
);

-- Every stored image record is added to its minute row and, when its hour/day is already
-- downsampled (late data), to that hour/day row too: in the same transaction as the insert.
CREATE TRIGGER rum_image_rollup AFTER INSERT ON rum_image_log BEGIN
  INSERT INTO rum_image_rollups (granularity, ts, site, format, device, cache_status, samples, images,
    measured, original_bytes, delivered_bytes, fallbacks)
  SELECT g.granularity, NEW.ts - NEW.ts % g.size, NEW.site, NEW.format, NEW.device, NEW.cache_status, 1,
    1.0 / NEW.sample_rate,
    CASE WHEN NEW.original_bytes IS NOT NULL AND NEW.delivered_bytes IS NOT NULL THEN 1.0 / NEW.sample_rate ELSE 0 END,
    CASE WHEN NEW.original_bytes IS NOT NULL AND NEW.delivered_bytes IS NOT NULL THEN NEW.original_bytes / NEW.sample_rate ELSE 0 END,
    CASE WHEN NEW.original_bytes IS NOT NULL AND NEW.delivered_bytes IS NOT NULL THEN NEW.delivered_bytes / NEW.sample_rate ELSE 0 END,
    CASE WHEN NEW.fallback = 1 THEN 1.0 / NEW.sample_rate ELSE 0 END
  FROM (SELECT 'minute' AS granularity, 60000 AS size
        UNION ALL SELECT 'hour', 3600000
        UNION ALL SELECT 'day', 86400000) AS g
  WHERE g.granularity = 'minute'
     OR NEW.ts - NEW.ts % g.size < COALESCE(
          (SELECT s.done_until FROM rum_image_rollup_state AS s WHERE s.granularity = g.granularity),
          -1)
  ON CONFLICT (granularity, site, ts, format, device, cache_status) DO UPDATE SET
    samples = samples + excluded.samples,
    images = images + excluded.images,
    measured = measured + excluded.measured,
    original_bytes = original_bytes + excluded.original_bytes,
    delivered_bytes = delivered_bytes + excluded.delivered_bytes,
    fallbacks = fallbacks + excluded.fallbacks;
END;
