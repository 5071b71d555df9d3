"""`mesoclinic rules`: validate a clinic's rulebook and regenerate the clinical-rules page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mesoclinic.assessment.reference import render_markdown
from mesoclinic.assessment.rulebook import load_default_rulebook, load_rulebook_file
from mesoclinic.findings import RulebookError

rules_app = typer.Typer(help="Candidacy and contraindication rulebook.", no_args_is_help=True)
# In a source checkout the reference lives in docs/ next to src/.
DEFAULT_DOCS = Path(__file__).resolve().parents[3] / "docs" / "clinical-rules.md"


@rules_app.command("check")
def check(path: Annotated[Path, typer.Argument(help="rulebook YAML file")]) -> None:
    """Validate a rulebook file; exits non-zero naming the bad rule."""
    try:
        rulebook = load_rulebook_file(path)
    except RulebookError as exc:
        typer.echo(f"invalid: {exc}", err=True)
        raise typer.Exit(1) from exc
    absolute = sum(r.severity == "absolute" for r in rulebook.contraindications)
    typer.echo(
        f"{path}: rulebook {rulebook.version} is valid: "
        f"{len(rulebook.candidacy)} candidacy rules, "
        f"{len(rulebook.contraindications)} contraindications "
        f"({absolute} absolute, {len(rulebook.contraindications) - absolute} relative)"
    )


@rules_app.command("docs")
def docs(
    output: Annotated[Path, typer.Option(help="where the page is written")] = DEFAULT_DOCS,
    rulebook: Annotated[
        Path | None, typer.Option(help="a clinic's rulebook file (default: the shipped one)")
    ] = None,
    check_only: Annotated[
        bool, typer.Option("--check", help="fail if the page is stale instead of writing it")
    ] = False,
) -> None:
    """Regenerate docs/clinical-rules.md from the shipped rulebook (or a clinic's)."""
    try:
        text = render_markdown(
            load_rulebook_file(rulebook) if rulebook else load_default_rulebook()
        )
    except RulebookError as exc:
        typer.echo(f"invalid: {exc}", err=True)
        raise typer.Exit(1) from exc
    current = output.read_text(encoding="utf-8") if output.exists() else None
    if check_only:
        if current != text:
            typer.echo(f"{output} is stale: run `mesoclinic rules docs`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date")
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
