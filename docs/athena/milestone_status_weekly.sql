CREATE EXTERNAL TABLE IF NOT EXISTS `milestone_status_weekly` (
  `status_date` date COMMENT 'The Sunday of the week: every to date figure is as of its end.',
  `site_id` string COMMENT 'Site of the register.',
  `site_name` string COMMENT 'Site name from the register.',
  `region` string COMMENT 'Region of the site (china, apac, emea, americas).',
  `country` string COMMENT 'Country of the site.',
  `milestone_code` string COMMENT 'Milestone, one of the eight in build order.',
  `milestone_seq` bigint COMMENT 'Position of the milestone in build order, 1 (LAND_ACQUIRED) to 8 (GO_LIVE).',
  `baseline_date` date COMMENT 'Baseline date from the milestone plan.',
  `forecast_date` date COMMENT 'Forecast date from the site report in force.',
  `actual_date` date COMMENT 'Actual completion date; null while not complete.',
  `percent_complete` double COMMENT 'Percent complete, 0 to 100, from the report in force.',
  `status` string COMMENT 'not_started, in_progress or complete, from the report in force.',
  `slip_days` bigint COMMENT '(actual_date if complete, else forecast_date) minus baseline_date, in days; positive is late.',
  `slip_change_days` bigint COMMENT 'slip_days minus last weeks for the same key; null when either is unknown.',
  `report_status_date` date COMMENT 'Data date of the site report used.',
  `stale` boolean COMMENT 'True when the site did not report in this week and its last report is carried.',
  `health` string COMMENT 'complete, complete_late, on_track, at_risk or late (rules in the data dictionary).'
)
PARTITIONED BY (`week` string COMMENT 'ISO week of the row, written 2026-W48. From the path only (week=2026-W48/): the Hive partition key, not stored in the files.')
STORED AS PARQUET
LOCATION 's3://buildout-lake/curated/milestone_status_weekly/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.week.type' = 'injected',
  'storage.location.template' = 's3://buildout-lake/curated/milestone_status_weekly/week=${week}/'
)
