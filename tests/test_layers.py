"""The apps depend one way. Every import of every app (also those inside functions; migrations
and tests left out) goes to its own layer or one below, no two apps import each other through any
path, and no product app imports the demo generators. A failure names the file that imports."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# From the bottom up (README, "Architecture"). Within a layer, apps may import each other as long
# as no cycle forms; the records layer is stricter: privacy imports no app, students only privacy.
LAYERS = {
    "privacy": 0,
    "students": 0,
    "accounts": 1,
    "assessments": 2,
    "lessons": 2,
    "interop": 2,
    "rollups": 2,
    "alerts": 2,
    "rights": 2,
    "dashboard": 3,
    "portal": 3,
    "demo": 4,
}
RECORDS_MAY_IMPORT = {"privacy": set(), "students": {"privacy"}}


def project_apps() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("*/apps.py"))


def app_imports(app: str) -> list[tuple[str, str]]:
    """(imported app, importing file) for every import of another app in `app`."""
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "migrations" in relative.parts or path.name.startswith("test"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top != app and top in LAYERS:
                    found.append((top, str(relative)))
    return found


def import_graph() -> dict[str, dict[str, str]]:
    """app → {imported app: the first file that imports it}."""
    graph: dict[str, dict[str, str]] = {}
    for app in project_apps():
        edges: dict[str, str] = {}
        for target, path in app_imports(app):
            edges.setdefault(target, path)
        graph[app] = edges
    return graph


def test_every_app_has_a_layer() -> None:
    assert set(project_apps()) == set(LAYERS), "add the new app to LAYERS (and README)"


def test_no_app_imports_a_layer_above_it() -> None:
    upward = [
        f"{path} ({app}, layer {LAYERS[app]}) imports {target} (layer {LAYERS[target]})"
        for app, edges in import_graph().items()
        for target, path in edges.items()
        if LAYERS[target] > LAYERS[app]
    ]
    assert not upward, "\n".join(upward)


def test_the_records_import_only_what_lies_beside_them() -> None:
    graph = import_graph()
    wrong = [
        f"{path} ({app}) imports {target}"
        for app, allowed in RECORDS_MAY_IMPORT.items()
        for target, path in graph[app].items()
        if target not in allowed
    ]
    assert not wrong, "\n".join(wrong)


def test_no_product_app_imports_the_demo() -> None:
    wrong = [
        f"{edges['demo']} ({app}) imports demo"
        for app, edges in import_graph().items()
        if app != "demo" and "demo" in edges
    ]
    assert not wrong, "\n".join(wrong)


def test_no_two_apps_import_each_other_through_any_path() -> None:
    graph = import_graph()

    def reaches(start: str, goal: str) -> list[str] | None:
        """A path of imports from start to goal, if there is one."""
        stack, seen = [(start, [start])], {start}
        while stack:
            app, path = stack.pop()
            for target in graph.get(app, {}):
                if target == goal:
                    return [*path, target]
                if target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
        return None

    cycles = []
    for app, edges in graph.items():
        for target, path in edges.items():
            back = reaches(target, app)
            if back:
                ties = " → ".join(back)
                cycles.append(f"{path} ({app} → {target}) closes a cycle: {ties}")
    assert not cycles, "\n".join(cycles)


def test_the_check_finds_an_upward_import(tmp_path: Path, monkeypatch) -> None:
    """The walk sees imports inside functions too: a records app importing a page fails."""
    fake = tmp_path / "students"
    fake.mkdir()
    (fake / "apps.py").write_text("")
    (fake / "views.py").write_text("def page():\n    from dashboard import views\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert app_imports("students") == [("dashboard", "students/views.py")]
