"""The page registry and the small UI helpers that parse what a student types (no Streamlit run)."""
from __future__ import annotations

from pathlib import Path

import optcore
from optcore import presets
from ui import registry, widgets

ROOT = Path(__file__).resolve().parents[1]


def test_every_registered_page_has_its_script_and_nothing_else_is_a_page():
    assert all(p.file.is_file() for p in registry.PAGES)
    assert {f.stem for f in registry.PAGES_DIR.glob("*.py")} == set(registry.KEYS)
    assert len(set(registry.KEYS)) == len(registry.KEYS)


def test_presets_name_only_registered_pages():
    assert set(presets.PAGES) == set(registry.KEYS)
    assert {p.page for p in optcore.PRESETS.values()} <= set(registry.KEYS)


def test_no_pages_folder_beside_the_entry_point():
    """Streamlit's legacy routing (a pages/ folder beside app.py) would run a deep link's page
    script without app.py on a fresh server: see app.py's docstring."""
    assert not (ROOT / "pages").exists()
    assert registry.PAGES_DIR.name == "pages"


def test_own_pickers_name_real_methods():
    for page in registry.own_pickers():
        assert page.picker_default in optcore.METHODS
        assert set(page.picker_prefers) <= set(optcore.METHODS)


def test_learning_rates_parser_reads_what_a_student_types():
    assert widgets.parse_learning_rates("0.2, 0.05; 1.1") == [0.2, 0.05, 1.1]
    assert widgets.parse_learning_rates("0.1, x, -1, 0, 0.1, 1e3, nan") == [0.1]
    many = ", ".join(str(0.01 * (i + 1)) for i in range(20))
    assert len(widgets.parse_learning_rates(many)) == widgets.MAX_LEARNING_RATES
    assert widgets.parse_learning_rates(None) == [] == widgets.parse_learning_rates("")


def test_extra_starts_parser_is_the_share_links_bounded_reader():
    assert widgets.parse_points("1, 2; -0.5, 3") == [[1.0, 2.0], [-0.5, 3.0]]
    assert widgets.parse_points("") == []
    assert widgets.parse_points("1, x; 2, 3") == [[2.0, 3.0]]        # an unreadable point is dropped
    assert len(widgets.parse_points("; ".join(["1, 1"] * 100))) <= 16


def test_parameter_labels_prefer_the_registry_label():
    spec = optcore.METHODS["gd"].params[0]
    assert widgets.param_label(spec) == (getattr(spec, "label", None) or widgets.PARAM_LABELS.get(spec.name, spec.name))

    class Labelled:
        name, label = "lr", "step size"
    assert widgets.param_label(Labelled()) == "step size"


def test_only_the_app_and_ui_import_streamlit_and_the_engine_imports_no_ui():
    import ast
    for path in list((ROOT / "optcore").rglob("*.py")) + list((ROOT / "benchmarks").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert "streamlit" not in imported, path
        if path.is_relative_to(ROOT / "optcore"):
            assert not imported & {"ui", "benchmarks"}, path
