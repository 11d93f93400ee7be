CREATE EXTERNAL TABLE IF NOT EXISTS `site_progress_weekly` (
  `status_date` date COMMENT 'The Sunday of the week: every to date figure is as of its end.',
  `site_id` string COMMENT 'Site of the register.',
  `site_name` string COMMENT 'Site name from the register.',
  `region` string COMMENT 'Region of the site.',
  `country` string COMMENT 'Country of the site.',
  `planned_mw` double COMMENT 'Planned capacity in megawatts, from the register.',
  `energized_mw` double COMMENT 'planned_mw when POWER_ENERGIZED is complete, else 0.',
  `live` boolean COMMENT 'True when GO_LIVE is complete.',
  `next_milestone` string COMMENT 'First milestone in build order not complete; null when all are.',
  `next_milestone_forecast` date COMMENT 'Forecast date of next_milestone.',
  `go_live_baseline` date COMMENT 'Baseline date of GO_LIVE from the milestone plan.',
  `go_live_forecast` date COMMENT 'Forecast date of GO_LIVE, or its actual date once complete.',
  `go_live_slip_days` bigint COMMENT 'slip_days of GO_LIVE.',
  `stale` boolean COMMENT 'True when the site did not report in this week.',
  `bac_usd` double COMMENT 'Budget at completion: the sites budget_usd from the register.',
  `pv_usd` double COMMENT 'Planned value: bac_usd x sum of weights of milestones with baseline_date on or before the status date.',
  `ev_usd` double COMMENT 'Earned value: bac_usd x sum of weight x percent_complete / 100.',
  `ac_usd` double COMMENT 'Actual cost: sum of received_usd of live PO lines with this site_id.',
  `spi` double COMMENT 'Schedule performance index ev_usd / pv_usd; null when pv_usd is 0.',
  `cpi` double COMMENT 'Cost performance index ev_usd / ac_usd; null when ac_usd is 0.',
  `sv_usd` double COMMENT 'Schedule variance ev_usd - pv_usd.',
  `cv_usd` double COMMENT 'Cost variance ev_usd - ac_usd.',
  `eac_usd` double COMMENT 'Estimate at completion bac_usd / cpi; null when cpi is null or 0.',
  `etc_usd` double COMMENT 'Estimate to complete eac_usd - ac_usd; null when eac_usd is null.',
  `vac_usd` double COMMENT 'Variance at completion bac_usd - eac_usd, negative is an overrun; null when eac_usd is null.',
  `tcpi` double COMMENT 'To-complete performance index (bac_usd - ev_usd) / (bac_usd - ac_usd): the cost efficiency the remaining work needs to finish on budget; null when bac_usd - ac_usd <= 0.',
  `go_live_slip_change_days` bigint COMMENT 'go_live_slip_days minus last weeks for the site; null when either is unknown.'
)
PARTITIONED BY (`week` string COMMENT 'ISO week of the row, written 2026-W48. From the path only (week=2026-W48/): the Hive partition key, not stored in the files.')
STORED AS PARQUET
LOCATION 's3://buildout-lake/curated/site_progress_weekly/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.week.type' = 'injected',
  'storage.location.template' = 's3://buildout-lake/curated/site_progress_weekly/week=${week}/'
)
