CREATE EXTERNAL TABLE IF NOT EXISTS `program_scorecard` (
  `status_date` date COMMENT 'The Sunday of the week: every to date figure is as of its end.',
  `area` string COMMENT 'program (all workstreams) or one workstream.',
  `budget_total_usd` double COMMENT 'Sum of budget_usd of the budget plan for the area, all quarters.',
  `budget_to_date_usd` double COMMENT 'Budget plan prorated to the status date.',
  `committed_usd` double COMMENT 'Sum of procurement_weekly.committed_usd over the area.',
  `received_usd` double COMMENT 'Sum of procurement_weekly.received_usd over the area.',
  `spend_pace` double COMMENT 'received_usd / budget_to_date_usd; null when budget_to_date_usd is 0.',
  `spi` double COMMENT 'Sum of ev_usd / sum of pv_usd of site_progress_weekly; data_centers and program only.',
  `cpi` double COMMENT 'Sum of ev_usd / sum of ac_usd of site_progress_weekly; data_centers and program only.',
  `hiring_attainment` double COMMENT 'Sum of hires_to_date / sum of planned_hires_to_date of hiring_weekly over the area.',
  `otd_rate` double COMMENT 'Sum of on_time_lines / sum of fully_received_lines of procurement_weekly over the area.',
  `rag` string COMMENT 'green, amber, red or grey: the worst band of the rated measures, grey per the feed rules.',
  `rag_reasons` array<string> COMMENT 'Every rule that was not green, feed reasons first; empty when green.',
  `budget_total_usd_prior` double COMMENT 'budget_total_usd published for the area last week; null when none.',
  `budget_to_date_usd_prior` double COMMENT 'budget_to_date_usd published for the area last week; null when none.',
  `committed_usd_prior` double COMMENT 'committed_usd published for the area last week; null when none.',
  `received_usd_prior` double COMMENT 'received_usd published for the area last week; null when none.',
  `spend_pace_prior` double COMMENT 'spend_pace published for the area last week; null when none.',
  `spi_prior` double COMMENT 'spi published for the area last week; null when none.',
  `cpi_prior` double COMMENT 'cpi published for the area last week; null when none.',
  `hiring_attainment_prior` double COMMENT 'hiring_attainment published for the area last week; null when none.',
  `otd_rate_prior` double COMMENT 'otd_rate published for the area last week; null when none.',
  `rag_prior` string COMMENT 'rag published for the area last week; null when none.',
  `bac_usd` double COMMENT 'Sum of bac_usd of site_progress_weekly; data_centers and program only.',
  `eac_usd` double COMMENT 'Estimate at completion bac_usd / cpi; null when cpi is null or 0; data_centers and program only.',
  `vac_usd` double COMMENT 'Variance at completion bac_usd - eac_usd, negative is an overrun; null when eac_usd is null; data_centers and program only.',
  `tcpi` double COMMENT 'To-complete performance index (bac_usd - sum of ev_usd) / (bac_usd - sum of ac_usd) of site_progress_weekly; null when bac_usd - sum of ac_usd <= 0; data_centers and program only.',
  `bac_usd_prior` double COMMENT 'bac_usd published for the area last week; null when none.',
  `eac_usd_prior` double COMMENT 'eac_usd published for the area last week; null when none.',
  `vac_usd_prior` double COMMENT 'vac_usd published for the area last week; null when none.',
  `tcpi_prior` double COMMENT 'tcpi published for the area last week; null when none.'
)
PARTITIONED BY (`week` string COMMENT 'ISO week of the row, written 2026-W48. From the path only (week=2026-W48/): the Hive partition key, not stored in the files.')
STORED AS PARQUET
LOCATION 's3://buildout-lake/curated/program_scorecard/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.week.type' = 'injected',
  'storage.location.template' = 's3://buildout-lake/curated/program_scorecard/week=${week}/'
)
