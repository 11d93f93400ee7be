"""What an audit check reports when a computed week must not be published."""

from __future__ import annotations

from dataclasses import dataclass

# Column-name fragments that would mean personal data or free text reached a published table.
PERSONAL_DATA_MARKERS: tuple[str, ...] = (
    "email",
    "e_mail",
    "candidate",
    "reported_by",
    "hiring_manager",
    "notes",
    "description",
    "phone",
)


@dataclass(frozen=True)
class AuditFailure:
    """One failed check of a computed week, named so that the run's message is actionable."""

    table: str
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.table}: {self.check}: {self.message}"
