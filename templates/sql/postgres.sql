-- mlv analyze --summary: per-variant sufficient statistics of one experiment.
-- Dialect: PostgreSQL (12+) and DuckDB (the same text runs on both).
--
-- Input tables (rename them below if yours differ):
--   exposures     (experiment TEXT, unit TEXT, variant TEXT, ts TIMESTAMP)
--   metric_events (unit TEXT, metric TEXT, value DOUBLE PRECISION NULL, ts TIMESTAMP)
-- Output: one row per variant and metric, exactly the columns `mlv analyze --summary` reads:
--   variant, metric, n, conversions, sum, sum_sq, pre_sum, pre_sum_sq, cross_sum
-- Per-unit rules (the same as `mlv analyze --events`; templates/sql/README.md):
--   * a unit's first exposure is its earliest exposure row for the experiment;
--   * units exposed to more than one variant are left out;
--   * only observations at or after the first exposure count (ts >= first exposure);
--   * proportion metric: 1 if any counted observation has value > 0, else 0;
--   * mean metric: the sum of counted values (0 when none); a NULL value counts as 1;
--   * CUPED covariate: the same sum over [first exposure - cuped_window, first exposure).
--
-- Postgres: psql "$DATABASE_URL" --csv -f postgres.sql > stats.csv
-- DuckDB:   duckdb my.duckdb -csv < postgres.sql > stats.csv
-- Then:    mlv analyze --summary stats.csv [--cuped]

WITH params AS (
  -- EDIT: the experiment, and the CUPED pre-exposure window.
  SELECT 'checkout' AS experiment, INTERVAL '14 days' AS cuped_window
),
metrics (metric, kind) AS (
  -- EDIT: one row per metric; kind is 'proportion' or 'mean'.
  VALUES ('converted', 'proportion'), ('revenue', 'mean')
),
exposed AS (
  SELECT e.unit, MIN(e.variant) AS variant, MIN(e.ts) AS first_ts
  FROM exposures e
  JOIN params p ON e.experiment = p.experiment
  GROUP BY e.unit
  HAVING COUNT(DISTINCT e.variant) = 1
),
per_unit AS (
  SELECT
    x.variant,
    m.metric,
    m.kind,
    COALESCE(SUM(CASE WHEN o.ts >= x.first_ts THEN COALESCE(o.value, 1) END), 0) AS y_sum,
    MAX(CASE WHEN o.ts >= x.first_ts AND COALESCE(o.value, 1) > 0 THEN 1 ELSE 0 END) AS y_any,
    COALESCE(SUM(CASE WHEN o.ts < x.first_ts AND o.ts >= x.first_ts - p.cuped_window THEN COALESCE(o.value, 1) END), 0) AS x_pre
  FROM exposed x
  CROSS JOIN metrics m
  CROSS JOIN params p
  LEFT JOIN metric_events o ON o.unit = x.unit AND o.metric = m.metric
  GROUP BY x.unit, x.variant, m.metric, m.kind
),
unit_values AS (
  SELECT variant, metric, kind, CASE WHEN kind = 'proportion' THEN y_any ELSE y_sum END AS y, x_pre
  FROM per_unit
)
SELECT
  variant,
  metric,
  COUNT(*) AS n,
  CASE WHEN kind = 'proportion' THEN SUM(y) END AS conversions,
  CASE WHEN kind = 'mean' THEN SUM(y) END AS sum,
  CASE WHEN kind = 'mean' THEN SUM(y * y) END AS sum_sq,
  CASE WHEN kind = 'mean' THEN SUM(x_pre) END AS pre_sum,
  CASE WHEN kind = 'mean' THEN SUM(x_pre * x_pre) END AS pre_sum_sq,
  CASE WHEN kind = 'mean' THEN SUM(x_pre * y) END AS cross_sum
FROM unit_values
GROUP BY variant, metric, kind
ORDER BY metric, variant;
