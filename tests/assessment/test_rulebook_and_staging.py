"""Rulebook validation (errors name the rule), clinic rulebooks, staging and SALT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mesoclinic.assessment import rulebook as rulebook_module
from mesoclinic.assessment.rulebook import (
    DEFAULT_RULEBOOK_PATH,
    get_rulebook,
    load_rulebook_file,
)
from mesoclinic.assessment.staging import (
    StagingError,
    check_scale_for_sex,
    normalise_grade,
    salt_score,
    salt_severity,
)
from mesoclinic.config import Settings
from mesoclinic.findings import RulebookError


def _shipped() -> dict[str, Any]:
    return dict(yaml.safe_load(DEFAULT_RULEBOOK_PATH.read_text()))


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_shipped_rulebook_is_valid_and_versioned() -> None:
    rb = load_rulebook_file(DEFAULT_RULEBOOK_PATH)
    assert rb.version and rb.candidacy and rb.contraindications


def test_unknown_condition_key_names_the_rule(tmp_path: Path) -> None:
    data = _shipped()
    data["contraindications"][0]["when"] = {"factt": "pregnant"}
    with pytest.raises(RulebookError, match=r"id=contra\.pregnancy.*factt"):
        load_rulebook_file(_write(tmp_path, data))


def test_bad_severity_names_the_rule(tmp_path: Path) -> None:
    data = _shipped()
    data["contraindications"][1]["severity"] = "fatal"
    with pytest.raises(RulebookError, match=r"id=contra\.breastfeeding.*severity"):
        load_rulebook_file(_write(tmp_path, data))


def test_unknown_fact_diagnosis_or_grade_is_refused(tmp_path: Path) -> None:
    for when in (
        {"fact": "smoker"},
        {"diagnosis_in": ["baldness"]},
        {"grade_in": ["VIII"]},
        {"diagnosis_in": []},
        {"condition_in": ["diabetis"]},
    ):
        data = _shipped()
        data["candidacy"][0]["when"] = when
        with pytest.raises(RulebookError, match=r"id=candidacy\.telogen_effluvium"):
            load_rulebook_file(_write(tmp_path, data))


def test_missing_source_and_empty_condition_are_refused(tmp_path: Path) -> None:
    data = _shipped()
    del data["candidacy"][0]["source"]
    data["candidacy"][1]["when"] = {}
    with pytest.raises(RulebookError) as info:
        load_rulebook_file(_write(tmp_path, data))
    assert "candidacy.telogen_effluvium" in str(info.value)
    assert "candidacy.early_male_pattern" in str(info.value)


def test_duplicate_rule_id_is_refused(tmp_path: Path) -> None:
    data = _shipped()
    data["contraindications"][1]["id"] = "contra.pregnancy"
    with pytest.raises(RulebookError, match="duplicate rule id 'contra.pregnancy'"):
        load_rulebook_file(_write(tmp_path, data))


def test_unreadable_and_non_yaml_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RulebookError, match="cannot read"):
        load_rulebook_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed")
    with pytest.raises(RulebookError, match="not valid YAML"):
        load_rulebook_file(bad)


def test_clinic_rulebook_from_setting_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _shipped()
    data["version"] = "clinic-7"
    monkeypatch.setenv("MESOCLINIC_RULEBOOK", str(_write(tmp_path, data)))
    assert get_rulebook(Settings().rulebook).version == "clinic-7"
    monkeypatch.delenv("MESOCLINIC_RULEBOOK")
    assert get_rulebook(Settings().rulebook) is rulebook_module.load_default_rulebook()


@pytest.mark.parametrize(
    ("regions", "score", "severity"),
    [
        ({"vertex": 0, "right": 0, "left": 0, "back": 0}, 0.0, "S0"),
        ({"vertex": 50, "right": 0, "left": 0, "back": 0}, 20.0, "S1"),
        ({"vertex": 100, "right": 50, "left": 50, "back": 25}, 64.0, "S3"),
        ({"vertex": 100, "right": 100, "left": 100, "back": 90}, 97.6, "S4"),
        ({"vertex": 100, "right": 100, "left": 100, "back": 100}, 100.0, "S5"),
    ],
)
def test_salt_is_the_weighted_sum_of_regional_loss(
    regions: dict[str, float], score: float, severity: str
) -> None:
    assert salt_score(regions) == score
    assert salt_severity(score) == severity


def test_salt_boundaries() -> None:
    assert [salt_severity(v) for v in (24.9, 25, 49.9, 50, 75, 99.9)] == [
        "S1",
        "S2",
        "S2",
        "S3",
        "S4",
        "S4",
    ]
    with pytest.raises(StagingError) as info:
        salt_score({"vertex": 10, "right": 0, "left": 0})
    assert info.value.field == "staging.regions.back"


def test_grades_are_normalised_or_refused() -> None:
    assert normalise_grade("norwood_hamilton", "iii-VERTEX") == "III-vertex"
    assert normalise_grade("sinclair", 3) == "3"
    assert normalise_grade("salt", 42.50) == "42.5"
    for scale, grade in (("norwood_hamilton", "VIII"), ("ludwig", "4"), ("salt", "lots")):
        with pytest.raises(StagingError) as info:
            normalise_grade(scale, grade)
        assert info.value.field == "staging.grade"


def test_pattern_scales_are_sex_specific() -> None:
    check_scale_for_sex("norwood_hamilton", "male")
    check_scale_for_sex("ludwig", "female")
    check_scale_for_sex("salt", "female")
    check_scale_for_sex("sinclair", "unknown")
    for scale, sex in (("norwood_hamilton", "female"), ("ludwig", "male"), ("sinclair", "male")):
        with pytest.raises(StagingError):
            check_scale_for_sex(scale, sex)
