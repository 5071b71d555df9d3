"""`mesoclinic rules check` and `mesoclinic rules docs`, and the committed page is current."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from mesoclinic.assessment.reference import render_markdown
from mesoclinic.assessment.rulebook import DEFAULT_RULEBOOK_PATH, load_default_rulebook
from mesoclinic.cli import build_app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "clinical-rules.md"
runner = CliRunner()


def test_committed_clinical_rules_page_is_not_stale() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_markdown(load_default_rulebook()), (
        "docs/clinical-rules.md is stale: run `mesoclinic rules docs`"
    )


def test_check_accepts_the_shipped_rulebook_with_a_summary() -> None:
    result = runner.invoke(build_app(), ["rules", "check", str(DEFAULT_RULEBOOK_PATH)])
    assert result.exit_code == 0, result.output
    assert "2026.1 is valid" in result.output and "absolute" in result.output


def test_check_refuses_a_bad_rule_naming_it(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_RULEBOOK_PATH.read_text())
    data["contraindications"][2]["when"] = {"allergy_to_cocktails": True}
    bad = tmp_path / "clinic.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = runner.invoke(build_app(), ["rules", "check", str(bad)])
    assert result.exit_code == 1
    assert "contra.cocktail_allergy" in result.output


def test_docs_writes_the_page_and_check_detects_staleness(tmp_path: Path) -> None:
    page = tmp_path / "clinical-rules.md"
    app = build_app()
    assert runner.invoke(app, ["rules", "docs", "--check", "--output", str(page)]).exit_code == 1
    assert runner.invoke(app, ["rules", "docs", "--output", str(page)]).exit_code == 0
    assert "contra.pregnancy" in page.read_text()
    result = runner.invoke(app, ["rules", "docs", "--check", "--output", str(page)])
    assert result.exit_code == 0, result.output
    page.write_text(page.read_text() + "edited by hand\n")
    assert runner.invoke(app, ["rules", "docs", "--check", "--output", str(page)]).exit_code == 1
