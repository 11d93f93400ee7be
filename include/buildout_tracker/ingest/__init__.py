"""From the landing zone to the validated zone: ledger, quarantine, per-week state."""
