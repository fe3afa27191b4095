"""Every rejection reason a sender or an operator can meet is documented."""

from __future__ import annotations

from pathlib import Path

from vigil.ingest.validation import Reason

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_reason_is_in_the_rejection_table() -> None:
    """``docs/events.md`` has a row for each ``Reason`` code (dashboards match on them)."""
    table = (DOCS / "events.md").read_text().split("## Rejection reasons", 1)[1]
    missing = [reason.value for reason in Reason if f"| `{reason.value}` |" not in table]
    assert missing == []
