"""What every clinical decision returns: the rule that fired, why, and where the rule comes from.

Shared by candidacy, contraindications, visit safety checks and precaution conflicts so the UI,
API and audit log show them the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Severity = Literal["absolute", "relative", "refuse", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One rule that fired, with its plain-language reason and its source."""

    rule_id: str
    severity: Severity
    reason: str
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RulebookError(ValueError):
    """A rulebook file is unreadable or invalid; the message names the file and the bad entry."""


M = TypeVar("M", bound=BaseModel)


def load_rulebook(path: Path, model: type[M]) -> M:
    """Parse a YAML rulebook and validate it against `model`, naming the offending entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulebookError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise RulebookError(f"{path}: not valid YAML: {exc}") from exc
    return validate_rulebook(raw, model, str(path))


def validate_rulebook(raw: Any, model: type[M], origin: str) -> M:
    """Validate already-parsed rulebook data; errors name the rule by its id where possible."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _describe_location(raw, err["loc"])
            problems.append(f"{where}: {err['msg']}")
        raise RulebookError(f"{origin}: invalid rulebook: " + "; ".join(problems)) from exc


def _describe_location(raw: Any, loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    node = raw
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(key, int) and isinstance(node, dict) and "id" in node:
            parts.append(f"[id={node['id']}]")
        else:
            parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(parts).lstrip(".") or "(root)"
