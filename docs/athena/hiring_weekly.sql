CREATE EXTERNAL TABLE IF NOT EXISTS `hiring_weekly` (
  `status_date` date COMMENT 'The Sunday of the week: every to date figure is as of its end.',
  `workstream` string COMMENT 'Workstream.',
  `role_family` string COMMENT 'Role family.',
  `planned_hires_to_date` double COMMENT 'Hiring plan prorated to the status date (quarters ended in full, current quarter by days elapsed).',
  `hires_to_date` bigint COMMENT 'Hires (highest offer version accepted) with hire date on or before the status date.',
  `hires_this_week` bigint COMMENT 'Hires with hire date inside the week, Monday to Sunday.',
  `attainment` double COMMENT 'hires_to_date / planned_hires_to_date; null when nothing is planned to date.',
  `open_reqs` bigint COMMENT 'Requisitions with status open.',
  `on_hold_reqs` bigint COMMENT 'Requisitions with status on_hold.',
  `open_reqs_over_90_days` bigint COMMENT 'Open requisitions with status_date minus opened_date above 90 days.',
  `offers_extended_this_week` bigint COMMENT 'Offers whose highest version has extended_date inside the week.',
  `offer_acceptance_rate` double COMMENT 'accepted / (accepted + declined) over highest versions resolved to date; null when none.',
  `time_to_fill_p50_days` double COMMENT 'Median days from opened_date to earliest hire, requisitions filled to date; null when none.',
  `time_to_fill_p90_days` double COMMENT '90th percentile of the same time to fill, linear interpolation; null when none.'
)
PARTITIONED BY (`week` string COMMENT 'ISO week of the row, written 2026-W48. From the path only (week=2026-W48/): the Hive partition key, not stored in the files.')
STORED AS PARQUET
LOCATION 's3://buildout-lake/curated/hiring_weekly/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.week.type' = 'injected',
  'storage.location.template' = 's3://buildout-lake/curated/hiring_weekly/week=${week}/'
)
