CREATE EXTERNAL TABLE IF NOT EXISTS `procurement_weekly` (
  `status_date` date COMMENT 'The Sunday of the week: every to date figure is as of its end.',
  `workstream` string COMMENT 'Workstream of the PO lines.',
  `category` string COMMENT 'Purchasing category of the PO lines.',
  `committed_usd` double COMMENT 'Sum of net_value in USD of the live lines.',
  `received_usd` double COMMENT 'Sum of received_qty x unit_price in USD of the live lines (actual cost).',
  `open_commitment_usd` double COMMENT 'committed_usd minus received_usd.',
  `live_lines` bigint COMMENT 'Number of live lines (current, not deleted, not cancelled).',
  `late_lines` bigint COMMENT 'Live lines past their requested delivery date, not fully received, status not closed.',
  `fully_received_lines` bigint COMMENT 'Live lines with received_qty >= quantity.',
  `on_time_lines` bigint COMMENT 'Fully received lines whose last_receipt_date <= requested_delivery_date.',
  `otd_rate` double COMMENT 'On-time delivery rate: on_time_lines / fully_received_lines; null when none fully received.',
  `suppliers` bigint COMMENT 'Distinct supplier_id among the live lines.',
  `top_supplier_share` double COMMENT 'Largest single supplier share of committed_usd; null when committed_usd is 0.',
  `committed_change_usd` double COMMENT 'committed_usd minus last weeks for the same key; null when last week had no row for it.'
)
PARTITIONED BY (`week` string COMMENT 'ISO week of the row, written 2026-W48. From the path only (week=2026-W48/): the Hive partition key, not stored in the files.')
STORED AS PARQUET
LOCATION 's3://buildout-lake/curated/procurement_weekly/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.week.type' = 'injected',
  'storage.location.template' = 's3://buildout-lake/curated/procurement_weekly/week=${week}/'
)
