"""The enumerations of docs/feeds.md, in one place."""

from __future__ import annotations

WORKSTREAMS = ("compute_hardware", "chip_development", "data_centers", "ai_software")
CATEGORIES = (
    "gpu_accelerators",
    "servers",
    "networking",
    "storage",
    "eda_tools",
    "ip_licensing",
    "wafer_fab",
    "land",
    "construction",
    "power_electrical",
    "cooling",
    "software_licenses",
    "cloud_services",
    "professional_services",
)
SITE_CATEGORIES = ("land", "construction", "power_electrical", "cooling")
REGIONS = ("china", "apac", "emea", "americas")
MILESTONE_CODES = (
    "LAND_ACQUIRED",
    "PERMITS_ISSUED",
    "GROUNDBREAKING",
    "SHELL_COMPLETE",
    "POWER_ENERGIZED",
    "COOLING_COMMISSIONED",
    "IT_FITOUT_COMPLETE",
    "GO_LIVE",
)
MILESTONE_ORDER = {code: i for i, code in enumerate(MILESTONE_CODES)}
ROLE_FAMILIES = (
    "ml_research",
    "ml_engineering",
    "infrastructure_eng",
    "chip_design",
    "dc_operations",
    "network_eng",
    "software_eng",
    "program_mgmt",
)
PO_STATUSES = ("open", "partially_received", "received", "closed", "cancelled")
MILESTONE_STATUSES = ("not_started", "in_progress", "complete")
REQUISITION_STATUSES = ("open", "on_hold", "filled", "cancelled")
OFFER_STATUSES = ("extended", "accepted", "declined", "rescinded", "deprecated")
LEVELS = ("L3", "L4", "L5", "L6", "L7", "L8")

CURRENCY_PATTERN = r"[A-Z]{3}"
COUNTRY_PATTERN = r"[A-Z]{2}"
QUARTER_PATTERN = r"\d{4}-Q[1-4]"
