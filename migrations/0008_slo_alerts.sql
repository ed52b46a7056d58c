-- SLO burn-rate alert state (owned by rum-collector/src/insights/alerts.ts, documented in
-- rum-collector/README-insights.md). One row per objective × severity: the state the webhook
-- was last told about, so a firing alert is sent once and resolved once (deduplicated across
-- cron runs and concurrent runs, which claim a transition with a conditional update).
CREATE TABLE rum_slo_alerts (
  slo_id TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('page', 'ticket')),
  state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
  since INTEGER NOT NULL,            -- ms since epoch the current state was claimed
  burn_long REAL,                    -- burn rates at that moment (long and short window)
  burn_short REAL,
  PRIMARY KEY (slo_id, severity)
) WITHOUT ROWID;
