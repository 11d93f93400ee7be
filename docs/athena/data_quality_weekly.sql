CREATE EXTERNAL TABLE IF NOT EXISTS `data_quality_weekly` (
  `status_date` date COMMENT 'The Sunday of the week: every to date figure is as of its end.',
  `feed` string COMMENT 'Feed: procurement, fx_rates, milestones, hiring or reference.',
  `file` string COMMENT 'File name the rule ran on; null for feed-level rules and delivery rows.',
  `rule` string COMMENT 'Rule name; delivery for the feeds delivery row.',
  `severity` string COMMENT 'critical, warning or info.',
  `rows_checked` bigint COMMENT 'Rows the rule checked (delivery rows: rows_in).',
  `rows_failed` bigint COMMENT 'Rows that broke the rule (delivery rows: rows_quarantined).',
  `success` boolean COMMENT 'True when the rule passed (delivery rows: the week is not blocked).',
  `files_received` bigint COMMENT 'Delivery rows: files that landed in the week, duplicates included; null on rule rows.',
  `duplicates_skipped` bigint COMMENT 'Delivery rows: files skipped as repeats of bytes already delivered; null on rule rows.',
  `files_quarantined` bigint COMMENT 'Delivery rows: whole files quarantined; null on rule rows.',
  `rows_in` bigint COMMENT 'Delivery rows: data rows read from the weeks accepted files; null on rule rows.',
  `rows_quarantined` bigint COMMENT 'Delivery rows: rows sent to quarantine; null on rule rows.',
  `blocked` boolean COMMENT 'Delivery rows: true when the feeds week is blocked; null on rule rows.',
  `blocked_reason` string COMMENT 'Delivery rows: why the week is blocked (file and rule); null otherwise.'
)
PARTITIONED BY (`week` string COMMENT 'ISO week of the row, written 2026-W48. From the path only (week=2026-W48/): the Hive partition key, not stored in the files.')
STORED AS PARQUET
LOCATION 's3://buildout-lake/curated/data_quality_weekly/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.week.type' = 'injected',
  'storage.location.template' = 's3://buildout-lake/curated/data_quality_weekly/week=${week}/'
)
