"""Device profiles are data: the FDU 70x profile and validation of the YAML."""

from __future__ import annotations

import pytest

from mesoclinic.imaging.profiles import ProfileError, get_profile, parse_profiles
from mesoclinic.imaging.results import Roi


def test_fdu_profile_gives_an_assumed_calibration() -> None:
    profile = get_profile("fdu-70x")
    calibration = profile.calibration_for(1280)
    assert calibration.assumed
    assert calibration.px_per_mm == pytest.approx(1280 / profile.field_width_mm)
    assert profile.magnification == 70


def test_fdu_profile_excludes_the_text_bar_as_the_overlay_fallback() -> None:
    # The fixed cut is the fallback of per-image overlay detection (tests/imaging/
    # test_imaging_overlays.py), which the profile asks for.
    assert get_profile("fdu-70x").roi_for(1280, 1024) == Roi(
        0, 32, 1280, 1024, detect_overlays=True
    )


def test_profile_overlay_setting_is_validated() -> None:
    base = "profiles:\n  cam:\n    magnification: 20\n    image_width_px: 100\n"
    base += "    image_height_px: 80\n    field_width_mm: 2\n"
    assert not parse_profiles(base)["cam"].detect_overlays
    assert parse_profiles(base + "    overlays: detect\n")["cam"].detect_overlays
    with pytest.raises(ProfileError, match="overlays"):
        parse_profiles(base + "    overlays: sometimes\n")


def test_profile_scales_with_a_resized_image() -> None:
    profile = get_profile("fdu-70x")
    assert profile.roi_for(640, 512) == Roi(0, 16, 640, 512, detect_overlays=True)
    assert profile.calibration_for(640).px_per_mm == pytest.approx(
        profile.calibration_for(1280).px_per_mm / 2
    )


def test_unknown_profile_lists_known_names() -> None:
    with pytest.raises(ProfileError, match="fdu-70x"):
        get_profile("no-such-camera")


def test_malformed_profile_yaml_is_refused() -> None:
    with pytest.raises(ProfileError):
        parse_profiles("profiles:\n  cam:\n    magnification: 20\n")
    with pytest.raises(ProfileError):
        parse_profiles("- just a list")
