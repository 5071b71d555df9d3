"""Assessment use cases: record, read, preview, override, void; and the treatment gate."""

from __future__ import annotations

from mesoclinic.assessment.gate import facts_from_record, latest_assessment, treatment_gate

__all__ = ["facts_from_record", "latest_assessment", "treatment_gate"]
