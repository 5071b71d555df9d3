"""Imports flow one way: pages/api/cli -> flows -> service -> rules/models/schemas -> core.

The checker parses every module under src/mesoclinic (no import is executed) and enforces:

1. Layer direction. A module imports only modules of its own layer or a lower one:
   core (0) < pure, models, schemas (1) < service (2) < flows (3) < edge (4) < root (5).
   The layer comes from the file name (`LAYER_BY_STEM`, overridable per module in
   `LAYER_BY_MODULE`); a module the tables do not place fails the test, so a new module is
   placed on purpose.
2. Cross-area imports reach only the other area's service, pure, models or schemas modules,
   never its flows or edges (`SHARED_EDGES` lists the two edge modules every area's routes
   share, each with its reason).
3. Areas depend on each other one way: the graph of areas drawn from imports made by their
   domain layers (pure, models, schemas, service, flows) has no cycle. Edges may compose
   several areas' services (a booking page shows aftercare warnings), so their imports do
   not count here.
4. No import cycle between modules.
5. No function-local `mesoclinic` import (they hide cycles), except `LAZY_IMPORTS`, each with
   its reason.

Where the odd modules sit:
- core (0): `config`, `db`, `errors`, `findings`, `schemas_common`, `migrate`, `startup`, the
  package.
- edge (4): every area's `api`, `pages`, `cli`, `panels`, `*_pages`, `views`, `worker`;
  `security.deps` (route dependencies); everything under `web/` (templating, forms, the
  dashboard and navigation registries, the home page).
- root (5), the composition root, may import anything and nothing below it imports it: `app`,
  the root `cli` (and `__main__`), `models_registry`, `backup`, `imaging.__main__`,
  `demo.seed`, `demo.cli` and each area's `demo.py`. `demo.tour` is a read service the home
  page uses; `demo.people` is pure data.
- `migrations/` is not checked: Alembic loads those files by path, never as imports.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "mesoclinic"

RANK = {"core": 0, "pure": 1, "models": 1, "schemas": 1, "service": 2, "flows": 3}
RANK |= {"edge": 4, "root": 5}
DOMAIN_LAYERS = frozenset({"pure", "models", "schemas", "service", "flows"})
CROSS_AREA_TARGETS = frozenset({"pure", "models", "schemas", "service"})
AREAS = frozenset(
    {"security", "patients", "assessment", "formulary", "plans", "visits", "aftercare"}
    | {"imaging", "outcomes", "analytics", "fhir", "demo"}
)

LAYER_BY_STEM = {
    "models": "models",
    "schemas": "schemas",
    "service": "service",
    "flows": "flows",
    # pure modules: plain values in, plain values out
    "rules": "pure",
    "rulebook": "pure",
    "staging": "pure",
    "schedule": "pure",
    "protocols": "pure",
    "calendar": "pure",
    "messages": "pure",
    "reference": "pure",
    "permissions": "pure",
    "actor": "pure",
    "settings": "pure",
    "area": "pure",  # an area's declaration: data naming its modules as strings
    "roles": "pure",
    "kinds": "pure",
    "progress": "pure",
    "responders": "pure",
    "charts": "pure",  # plain values in, SVG text out (only pages and the report import it)
    "recall_report": "pure",
    "allergens": "pure",
    "display": "pure",
    "analysis": "pure",  # the imaging code on one stored image: bytes in, result out
    "imagestore": "pure",
    "audit_chain": "pure",
    "password_policy": "pure",
    "search_keys": "pure",
    "stats": "pure",  # analytics: summaries and intervals
    "compare": "pure",  # analytics: cohort comparisons
    "signals": "pure",  # analytics: the lot safety signal
    "mixed": "pure",  # analytics: the growth-model REML fit from per-patient sums
    "propensity": "pure",  # analytics: the propensity model and its weights
    # service-layer modules, split from a service by concept
    "audit": "service",
    "audit_seal": "service",
    "login_throttle": "service",
    "idempotency": "service",
    "jobs": "service",
    "sites": "service",
    "images": "service",
    "images_export": "service",
    "photo_consent": "service",
    "review": "service",
    "plan_reviews": "service",
    "corrections": "service",
    "followup": "service",
    "evidence": "service",
    "responder_review": "service",
    "growth_pairs": "service",
    "pairs": "service",
    "consent": "service",
    "history": "service",
    "facts": "service",
    "gate": "service",
    "stock": "service",
    "booking": "service",
    "appointments": "service",
    "fulfilment": "service",
    "clinic_calendar": "service",
    "screening": "service",
    "recipients": "service",
    "scheduler": "service",
    "sessions": "service",
    "outbox": "service",
    "outbox_admin": "service",
    "mailer": "service",
    "tour": "service",
    # edges: HTTP, HTML, command line, the worker job
    "api": "edge",
    "pages": "edge",
    "cli": "edge",
    "panels": "edge",
    "views": "edge",
    "sheet": "edge",
    "report": "edge",
    "tabs": "edge",
    "deps": "edge",
    "worker": "edge",
    "jobs_worker": "edge",
    "demo": "root",
}
LAYER_BY_MODULE = {
    PACKAGE: "core",
    f"{PACKAGE}.config": "core",
    f"{PACKAGE}.db": "core",
    f"{PACKAGE}.errors": "core",
    f"{PACKAGE}.findings": "core",
    f"{PACKAGE}.schemas_common": "core",
    f"{PACKAGE}.migrate": "core",
    f"{PACKAGE}.startup": "core",
    f"{PACKAGE}.area": "pure",
    f"{PACKAGE}.areas": "pure",  # reads the declarations; loads named modules only when asked
    f"{PACKAGE}.command": "edge",
    # fhir bulk export and referral import (the fhir-bulk half of the area)
    f"{PACKAGE}.patients.records": "service",  # the API's hot reads as plain rows
    f"{PACKAGE}.fhir.bulk_models": "models",
    f"{PACKAGE}.fhir.bulk": "service",
    f"{PACKAGE}.fhir.bulk_export": "service",
    f"{PACKAGE}.fhir.bulk_ndjson": "pure",
    f"{PACKAGE}.fhir.bulk_worker": "edge",
    f"{PACKAGE}.fhir.importer": "service",
    f"{PACKAGE}.fhir.importer_parse": "pure",
    f"{PACKAGE}.fhir.importer_records": "pure",
    f"{PACKAGE}.fhir.importer_read": "pure",
    f"{PACKAGE}.fhir.importer_sessions": "pure",
    f"{PACKAGE}.app": "root",
    f"{PACKAGE}.cli": "root",
    f"{PACKAGE}.__main__": "root",  # `python -m mesoclinic`: the root command
    f"{PACKAGE}.models_registry": "root",
    f"{PACKAGE}.backup": "root",
    f"{PACKAGE}.imaging.__main__": "root",
    f"{PACKAGE}.demo.seed": "root",
    f"{PACKAGE}.demo.cli": "root",
    f"{PACKAGE}.demo.people": "pure",
    # analytics: the cohort definition and the figures built from aggregate rows are pure; the
    # SQL builders and the reports that run them are services
    f"{PACKAGE}.analytics.cohorts": "pure",
    f"{PACKAGE}.analytics.summaries": "pure",
    f"{PACKAGE}.analytics.evidence": "pure",
    f"{PACKAGE}.analytics.queries": "service",
    f"{PACKAGE}.analytics.safety_queries": "service",
    f"{PACKAGE}.analytics.comparison_queries": "service",
    # the derived rows' statements and the session listener that keeps them up to date: loaded
    # with the tables (the area's `models`), so no service can write without it
    f"{PACKAGE}.analytics.rows": "models",
    f"{PACKAGE}.analytics.scratch": "service",
    f"{PACKAGE}.analytics.safety": "service",
    f"{PACKAGE}.analytics.comparison": "service",
    f"{PACKAGE}.analytics.tables": "service",
    # fhir: pure mapping (ORM rows in, validated FHIR dicts out), its codes and building blocks
    f"{PACKAGE}.fhir.codes": "pure",
    f"{PACKAGE}.fhir.build": "pure",
    f"{PACKAGE}.fhir.mapping_patient": "pure",
    f"{PACKAGE}.fhir.mapping_assessment": "pure",
    f"{PACKAGE}.fhir.mapping_outcomes": "pure",
    f"{PACKAGE}.fhir.mapping_visits": "pure",
    f"{PACKAGE}.fhir.mapping_plans": "pure",
    f"{PACKAGE}.fhir.mapping_provenance": "pure",
    f"{PACKAGE}.fhir.params": "pure",
    f"{PACKAGE}.fhir.bundles": "pure",
    f"{PACKAGE}.fhir.capability": "pure",
    f"{PACKAGE}.fhir.code_systems": "pure",
    f"{PACKAGE}.fhir.search": "service",  # searches through the areas' services
    f"{PACKAGE}.fhir.reading": "service",  # reads one resource through its area's service
}
SUFFIX_LAYERS = {"_pages": "edge", "_api": "edge", "_cli": "edge", "_schemas": "schemas"}
# Areas whose other modules all share one layer.
LAYER_BY_AREA = {"imaging": "pure", "web": "edge"}

SHARED_EDGES = {
    f"{PACKAGE}.security.deps": "route dependencies (session, actor, settings) for every route",
    f"{PACKAGE}.patients.pages": "the patient chart frame (patient_page) other areas' tabs fill",
}
LAZY_IMPORTS = {
    (f"{PACKAGE}.cli", f"{PACKAGE}.app"): "only `serve` needs every area's routes loaded",
    (f"{PACKAGE}.cli", f"{PACKAGE}.demo.seed"): "only `serve --demo` needs the demo data",
    (f"{PACKAGE}.cli", f"{PACKAGE}.migrate"): (
        "Alembic, SQLAlchemy and every model: `mesoclinic --help` loads none (test_startup)"
    ),
    (f"{PACKAGE}.cli", f"{PACKAGE}.config"): (
        "pydantic-settings: only a command that runs reads the settings (test_startup)"
    ),
    (f"{PACKAGE}.cli", f"{PACKAGE}.db"): "SQLAlchemy: only a command that runs opens the database",
    (f"{PACKAGE}.cli", f"{PACKAGE}.worker"): (
        "every area's jobs: only `serve --demo` and `worker` run them (test_startup)"
    ),
    (f"{PACKAGE}.command", f"{PACKAGE}.migrate"): (
        "Alembic, SQLAlchemy and every model: loaded when a command opens the database, not "
        "when the command line starts (test_startup)"
    ),
    (f"{PACKAGE}.outcomes.report_cli", f"{PACKAGE}.outcomes.report"): (
        "Matplotlib and WeasyPrint load in seconds; `mesoclinic --help` must stay quick"
    ),
    (f"{PACKAGE}.fhir.cli", f"{PACKAGE}.fhir.service"): (
        "every area's services and Pillow (through the image store): only the export needs them"
    ),
    (f"{PACKAGE}.analytics.cli", f"{PACKAGE}.analytics.comparison"): (
        "SciPy and statsmodels: only a comparison needs them, not every `mesoclinic` command"
    ),
    (f"{PACKAGE}.analytics.cli", f"{PACKAGE}.analytics.service"): (
        "the cohort services (SQLAlchemy, NumPy, every model): only an analytics command"
    ),
    (f"{PACKAGE}.analytics.cli", f"{PACKAGE}.analytics.safety"): (
        "the lot and stage reports: only `analytics lots` and `analytics stages` need them"
    ),
    (f"{PACKAGE}.outcomes.analysis", f"{PACKAGE}.imaging.analysis"): (
        "the detector (SciPy, scikit-image, onnxruntime) loads when a job runs, not when "
        "`serve` imports every router (bench/startup.py)"
    ),
    (f"{PACKAGE}.outcomes.analysis", f"{PACKAGE}.imaging.units"): (
        "SciPy's clustering: only a finished analysis groups hairs into units"
    ),
    (f"{PACKAGE}.outcomes.growth_pairs", f"{PACKAGE}.imaging.analysis"): (
        "the detector loads when a growth job runs, not when `serve` starts"
    ),
    (f"{PACKAGE}.outcomes.followup", f"{PACKAGE}.imaging.growth"): (
        "the detector and scikit-image's registration load when a follow-up job runs"
    ),
    (f"{PACKAGE}.outcomes.followup", f"{PACKAGE}.imaging.matching"): (
        "SciPy's assignment solver: only a follow-up job pairs hairs"
    ),
    (f"{PACKAGE}.outcomes.growth_pairs", f"{PACKAGE}.imaging.growth"): (
        "scikit-image's registration: only a growth job needs it"
    ),
    (f"{PACKAGE}.analytics.comparison", f"{PACKAGE}.analytics.compare"): (
        "the comparison statistics (NumPy, SciPy, statsmodels) load with the first comparison, "
        "not when `serve` imports the analytics routes (tests/test_startup.py)"
    ),
    (f"{PACKAGE}.analytics.comparison", f"{PACKAGE}.analytics.mixed"): (
        "the mixed model's NumPy code loads with the first comparison, not with `serve`"
    ),
    (f"{PACKAGE}.outcomes.review", f"{PACKAGE}.imaging.overlay"): (
        "NumPy and Pillow load with the first overlay drawn, not when `serve` starts "
        "(tests/test_startup.py)"
    ),
    (f"{PACKAGE}.imaging.cli", f"{PACKAGE}.imaging.batch"): (
        "NumPy, SciPy, Pillow and the detector models: only `analyze` needs them, and every "
        "command builds the whole CLI (tests/test_startup.py)"
    ),
    (f"{PACKAGE}.outcomes.images_cli", f"{PACKAGE}.outcomes.flows"): (
        "the upload flow loads Pillow and the analysis queue; `--help` must not (test_startup)"
    ),
    (f"{PACKAGE}.outcomes.images_cli", f"{PACKAGE}.outcomes.imagestore"): (
        "the image store loads Pillow; only `images sweep` needs it (tests/test_startup.py)"
    ),
    (f"{PACKAGE}.outcomes.review_cli", f"{PACKAGE}.outcomes.corrections"): (
        "the corrections export loads NumPy, SciPy and Pillow; only `corrections export` "
        "needs them (tests/test_startup.py)"
    ),
}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    local: bool


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.violations.append(message)


def package_sources(src: Path = SRC) -> dict[str, str]:
    """Every module of the package (migrations left out) by dotted name."""
    sources = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if not name.startswith(f"{PACKAGE}.migrations"):
            sources[name] = path.read_text()
    return sources


def layer_of(module: str) -> str | None:
    if module in LAYER_BY_MODULE:
        return LAYER_BY_MODULE[module]
    parts = module.split(".")
    if len(parts) == 2 and parts[1] in AREAS | set(LAYER_BY_AREA):
        return LAYER_BY_AREA.get(parts[1], "core")  # an area's __init__
    stem = parts[-1]
    if stem in LAYER_BY_STEM:
        return LAYER_BY_STEM[stem]
    # A concept split from a big area keeps its layer in the suffix: images_api, review_cli...
    for suffix, layer in SUFFIX_LAYERS.items():
        if stem.endswith(suffix):
            return layer
    if stem.startswith("demo_"):
        return "root"
    return LAYER_BY_AREA.get(parts[1]) if len(parts) > 2 else None


def area_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in AREAS else None


def _resolve(node: ast.ImportFrom, source: str, is_package: bool, known: set[str]) -> list[str]:
    base = node.module or ""
    if node.level:
        anchor = source.split(".")[: len(source.split(".")) - node.level + (1 if is_package else 0)]
        base = ".".join(anchor + ([base] if base else []))
    targets = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        targets.append(sub if sub in known else base)
    return targets


def imports_of(module: str, text: str, known: set[str]) -> list[Import]:
    """The package-internal imports of one module, marked local when inside a def or class."""
    tree = ast.parse(text)
    found: list[Import] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            )
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                targets = _resolve(child, module, module + ".__init__" in known, known)
            for target in targets:
                if target == PACKAGE or target.startswith(PACKAGE + "."):
                    found.append(Import(module, target, child.lineno, inner))
            visit(child, inner)

    visit(tree, False)
    return found


def check(sources: dict[str, str]) -> list[str]:
    """Every broken contract in a module map (name -> source text), as readable lines."""
    report = Report()
    known = set(sources)
    edges = sorted(
        {imp for name, text in sources.items() for imp in imports_of(name, text, known)},
        key=lambda i: (i.source, i.line, i.target),
    )
    for module in sources:
        if layer_of(module) is None:
            report.add(f"{module}: no layer; add its name to LAYER_BY_STEM or LAYER_BY_MODULE")
    for imp in edges:
        _check_direction(imp, report)
        _check_local(imp, report)
    _check_cycles({(i.source, i.target) for i in edges if i.target in known}, report)
    _check_area_cycles(edges, report)
    return report.violations


def _where(imp: Import) -> str:
    return f"{imp.source}:{imp.line} imports {imp.target}"


def _check_direction(imp: Import, report: Report) -> None:
    src_layer, dst_layer = layer_of(imp.source), layer_of(imp.target)
    if src_layer is None or dst_layer is None or src_layer == "root":
        return
    if RANK[dst_layer] > RANK[src_layer]:
        report.add(f"{_where(imp)}: {_a(src_layer)} module must not import {_a(dst_layer)} module")
        return
    src_area, dst_area = area_of(imp.source), area_of(imp.target)
    if (
        src_area
        and dst_area
        and src_area != dst_area
        and dst_layer not in CROSS_AREA_TARGETS
        and imp.target not in SHARED_EDGES
    ):
        report.add(
            f"{_where(imp)}: another area is reached through its service, "
            f"not its {dst_layer} module"
        )


def _a(layer: str) -> str:
    return ("an " if layer[0] in "aeiou" else "a ") + layer


def _check_local(imp: Import, report: Report) -> None:
    if imp.local and (imp.source, imp.target) not in LAZY_IMPORTS:
        report.add(f"{_where(imp)} inside a function: import at the top (cycles hide there)")


def _check_cycles(graph_edges: set[tuple[str, str]], report: Report) -> None:
    for cycle in _cycles(graph_edges):
        report.add("import cycle: " + " -> ".join(cycle + [cycle[0]]))


def _check_area_cycles(imports: list[Import], report: Report) -> None:
    area_edges = set()
    for imp in imports:
        src, dst = area_of(imp.source), area_of(imp.target)
        if src and dst and src != dst and layer_of(imp.source) in DOMAIN_LAYERS:
            area_edges.add((src, dst))
    for cycle in _cycles(area_edges):
        pairs = zip(cycle, cycle[1:] + cycle[:1], strict=True)
        culprits = sorted(
            {
                f"{i.source}:{i.line}"
                for a, b in pairs
                for i in imports
                if (area_of(i.source), area_of(i.target)) == (a, b)
                and layer_of(i.source) in DOMAIN_LAYERS
            }
        )
        report.add("area cycle: " + " -> ".join(cycle + [cycle[0]]) + f" ({', '.join(culprits)})")


def _cycles(graph_edges: set[tuple[str, str]]) -> list[list[str]]:
    """One cycle per strongly connected component (Tarjan), so a report names a real loop."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(graph_edges):
        if a != b:
            graph.setdefault(a, []).append(b)
            graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in graph[node]:
            if succ not in index:
                strongconnect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return [_loop_in(graph, component) for component in components]


def _loop_in(graph: dict[str, list[str]], component: set[str]) -> list[str]:
    start = min(component)
    path, seen = [start], {start}
    while True:
        succ = next(s for s in graph[path[-1]] if s in component)
        if succ in seen:
            return path[path.index(succ) :]
        path.append(succ)
        seen.add(succ)


# --- the package itself ---------------------------------------------------------------------


def test_the_package_keeps_every_import_contract() -> None:
    assert check(package_sources()) == []


def test_every_allowlisted_lazy_import_still_exists() -> None:
    sources = package_sources()
    known = set(sources)
    local = {
        (i.source, i.target)
        for name, text in sources.items()
        for i in imports_of(name, text, known)
        if i.local
    }
    assert set(LAZY_IMPORTS) <= local


# --- the checker catches what it should ---------------------------------------------------


def _planted(module: str, line: str) -> list[str]:
    sources = package_sources()
    sources[module] = sources[module] + "\n" + line + "\n"
    return check(sources)


def test_a_service_importing_its_pages_is_caught() -> None:
    found = _planted(f"{PACKAGE}.visits.service", "from mesoclinic.visits import pages")
    assert any("a service module must not import an edge module" in v for v in found), found


def test_reaching_into_another_areas_api_is_caught() -> None:
    found = _planted(f"{PACKAGE}.aftercare.pages", "from mesoclinic.plans import api")
    assert any("through its service" in v for v in found), found


def test_a_lower_area_importing_a_higher_one_is_caught() -> None:
    found = _planted(f"{PACKAGE}.formulary.stock", "from mesoclinic.visits import models")
    assert any(v.startswith("area cycle: formulary -> visits") for v in found), found


def test_a_module_cycle_is_caught() -> None:
    found = _planted(f"{PACKAGE}.plans.schedule", "from mesoclinic.plans import service")
    assert any(v.startswith("import cycle:") for v in found), found


def test_a_function_local_import_is_caught() -> None:
    found = _planted(
        f"{PACKAGE}.plans.service",
        "def later() -> None:\n    from mesoclinic.plans import booking  # noqa",
    )
    assert any("inside a function" in v for v in found), found


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (
            {"mesoclinic.plans.helpers": "import mesoclinic.plans.service\n"},
            "mesoclinic.plans.helpers: no layer",  # a new module must be placed on purpose
        ),
        (
            {
                "mesoclinic.plans.rules": "from mesoclinic.plans.service import x\n",
                "mesoclinic.plans.service": "from mesoclinic.plans.rules import y\n",
            },
            "import cycle: mesoclinic.plans.rules -> mesoclinic.plans.service",
        ),
        (
            {
                "mesoclinic.plans.service": "",
                "mesoclinic.plans.flows": "",
                "mesoclinic.plans.api": "",
            }
            | {"mesoclinic.plans.rules": "from mesoclinic.plans import flows\n"},
            "a pure module must not import a flows module",
        ),
        (
            {"mesoclinic.app": "", "mesoclinic.visits.service": "from mesoclinic import app\n"},
            "a service module must not import a root module",
        ),
    ],
)
def test_the_checker_on_small_module_maps(sources: dict[str, str], expected: str) -> None:
    assert any(expected in v for v in check(sources)), check(sources)
