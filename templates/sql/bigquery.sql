-- mlv analyze --summary: per-variant sufficient statistics of one experiment.
-- Dialect: BigQuery (GoogleSQL).
--
-- Input tables (EDIT the two table names below):
--   exposures     (experiment STRING, unit STRING, variant STRING, ts TIMESTAMP)
--   metric_events (unit STRING, metric STRING, value FLOAT64 NULLABLE, ts TIMESTAMP)
-- Output: one row per variant and metric, exactly the columns `mlv analyze --summary` reads:
--   variant, metric, n, conversions, sum, sum_sq, pre_sum, pre_sum_sq, cross_sum
-- Per-unit rules (the same as `mlv analyze --events`; templates/sql/README.md):
--   * a unit's first exposure is its earliest exposure row for the experiment;
--   * units exposed to more than one variant are left out;
--   * only observations at or after the first exposure count (ts >= first exposure);
--   * proportion metric: 1 if any counted observation has value > 0, else 0;
--   * mean metric: the sum of counted values (0 when none); a NULL value counts as 1;
--   * CUPED covariate: the same sum over [first exposure - cuped_window_days, first exposure).
--
-- Run:  bq query --use_legacy_sql=false --format=csv --max_rows=100000 < bigquery.sql > stats.csv
-- Then: mlv analyze --summary stats.csv [--cuped]

WITH params AS (
  -- EDIT: the experiment, and the CUPED pre-exposure window in days.
  SELECT 'checkout' AS experiment, 14 AS cuped_window_days
),
metrics AS (
  -- EDIT: one row per metric; kind is 'proportion' or 'mean'.
  SELECT * FROM UNNEST([
    STRUCT('converted' AS metric, 'proportion' AS kind),
    STRUCT('revenue' AS metric, 'mean' AS kind)
  ])
),
exposed AS (
  SELECT e.unit, MIN(e.variant) AS variant, MIN(e.ts) AS first_ts
  FROM `project.dataset.exposures` AS e
  JOIN params AS p ON e.experiment = p.experiment
  GROUP BY e.unit
  HAVING COUNT(DISTINCT e.variant) = 1
),
per_unit AS (
  SELECT
    x.variant,
    m.metric,
    m.kind,
    COALESCE(SUM(IF(o.ts >= x.first_ts, COALESCE(o.value, 1), NULL)), 0) AS y_sum,
    MAX(IF(o.ts >= x.first_ts AND COALESCE(o.value, 1) > 0, 1, 0)) AS y_any,
    COALESCE(SUM(IF(o.ts < x.first_ts AND o.ts >= TIMESTAMP_SUB(x.first_ts, INTERVAL p.cuped_window_days DAY),
                    COALESCE(o.value, 1), NULL)), 0) AS x_pre
  FROM exposed AS x
  CROSS JOIN metrics AS m
  CROSS JOIN params AS p
  LEFT JOIN `project.dataset.metric_events` AS o ON o.unit = x.unit AND o.metric = m.metric
  GROUP BY x.unit, x.variant, m.metric, m.kind
),
unit_values AS (
  SELECT variant, metric, kind, IF(kind = 'proportion', y_any, y_sum) AS y, x_pre
  FROM per_unit
)
SELECT
  variant,
  metric,
  COUNT(*) AS n,
  IF(kind = 'proportion', SUM(y), NULL) AS conversions,
  IF(kind = 'mean', SUM(y), NULL) AS sum,
  IF(kind = 'mean', SUM(y * y), NULL) AS sum_sq,
  IF(kind = 'mean', SUM(x_pre), NULL) AS pre_sum,
  IF(kind = 'mean', SUM(x_pre * x_pre), NULL) AS pre_sum_sq,
  IF(kind = 'mean', SUM(x_pre * y), NULL) AS cross_sum
FROM unit_values
GROUP BY variant, metric, kind
ORDER BY metric, variant;
