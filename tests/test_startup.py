"""`mesoclinic --help` loads no heavy library: the command line starts quickly (issue 18).

Each command is its own process, so what `--help` imports is what every command pays before
doing anything. The heavy parts (image analysis, charts, PDF, statistics, migrations) are
imported by the commands and pages that use them. Timings are printed by bench/startup.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "numpy",
    "scipy",
    "PIL",
    "skimage",
    "cv2",
    "onnxruntime",
    "matplotlib",
    "weasyprint",
    "statsmodels",
    "alembic",
    "mako",
    "mesoclinic.imaging.analysis",
    "mesoclinic.outcomes.analysis",
    "mesoclinic.outcomes.charts",
)

PROBE = """
import json, sys
from mesoclinic.cli import build_app
try:
    build_app()(["--help"], prog_name="mesoclinic")
except SystemExit as done:
    assert done.code == 0, done.code
from mesoclinic.security import service
print(json.dumps({
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {NAMES} or m in {NAMES}),
    "hashed_at_import": service._dummy_hash.cache_info().currsize,
}))
"""


def test_help_imports_no_heavy_library_and_hashes_no_password() -> None:
    probe = PROBE.replace("{NAMES}", repr(set(HEAVY)))
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["loaded"] == []
    assert found["hashed_at_import"] == 0
    assert "Usage: mesoclinic" in done.stdout


def test_the_probe_sees_a_heavy_import_when_there_is_one() -> None:
    probe = PROBE.replace("{NAMES}", repr(set(HEAVY))).replace(
        "from mesoclinic.cli import build_app", "import numpy\nfrom mesoclinic.cli import build_app"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    assert "numpy" in json.loads(done.stdout.strip().splitlines()[-1])["loaded"]
