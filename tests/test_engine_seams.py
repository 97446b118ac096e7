"""The engine's seams: one result vocabulary, one curvature classifier, diagnostics declared once,
the line-search memo in the search's own state, and an import graph without cycles or upward arrows."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import optcore
from optcore import analysis, curvature, rules
from optcore.methods import METHODS
from optcore.oracle import StepOracle

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"
ENGINE = Path(optcore.__file__).parent


def _line_search_variants(name):
    spec = METHODS[name]
    kinds = next((p.choices for p in spec.params if p.name == "line_search"), ("none",))
    return [{"line_search": kind} if len(kinds) > 1 else {} for kind in kinds]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_logged_diagnostic_is_declared_once(method):
    declared = {d.name: d for d in optcore.STEP_DIAGNOSTICS}
    assert len(declared) == len(optcore.STEP_DIAGNOSTICS)
    obj = optcore.parse(ROSENBROCK)
    for params in _line_search_variants(method):
        t = optcore.run(obj, method, [-1.2, 1.0], steps=5, tol=0, **params)
        for name, values in t.extras.items():
            assert name in declared, f"{method} logs {name!r}, which STEP_DIAGNOSTICS does not declare"
            shape = declared[name].shape
            if shape == "trials":
                assert all(np.asarray(step).ndim == 2 and np.asarray(step).shape[1] == 2 for step in values)
            else:
                want = {"()": (), "(d,)": (2,), "(d, d)": (2, 2)}[shape]
                assert np.asarray(values).shape == (t.iterations,) + want


def test_single_and_batch_results_share_one_vocabulary():
    obj = optcore.parse(ROSENBROCK)
    X0 = np.array([[-1.2, 1.0], [0.5, 0.5], [2.0, -1.0]])
    batch = optcore.run_batch(obj, "bfgs", X0, steps=40)
    for i in range(len(X0)):
        single = optcore.run(obj, "bfgs", X0[i], steps=40)
        k = single.iterations
        assert np.array_equal(batch.final_point[i], single.final_point)
        assert batch.final_value[i] == single.final_value
        assert batch.final_grad_norm[i] == single.final_grad_norm
        assert np.array_equal(batch.grad_norms[i, : k + 1], single.grad_norms)
        assert np.array_equal(batch.grads[i, : k + 1], single.grads)
        assert batch.message[i] == batch.message(i) == batch.messages[i] == single.message
        assert batch.status[i] == single.status and batch.stopped_at[i] == single.stopped_at
    # The older plural names are the same arrays.
    assert batch.final_points is batch.final_point and batch.final_values is batch.final_value
    assert batch.final_grad_norms is batch.final_grad_norm
    assert list(batch.message) == list(batch.messages) and len(batch.message) == 3
    with pytest.raises(IndexError):
        batch.message[3]


@pytest.mark.parametrize("eigenvalues, word, short, region", [
    ([1.0, 2.0], "minimum", "min", 1.0),
    ([-2.0, -1.0], "maximum", "max", -1.0),
    ([-1.0, 3.0], "saddle point", "saddle", 0.0),
    ([0.0, 3.0], "flat point", "degenerate", 1.0),
    ([-3.0, 0.0], "flat point", "degenerate", -1.0),
    ([np.nan, 1.0], "", "degenerate", np.nan),
])
def test_one_curvature_classifier_behind_every_name(eigenvalues, word, short, region):
    lam = np.array([eigenvalues])
    assert curvature.classify_curvature(lam)[0] == word
    from optcore.run import classify_curvature as run_classifier
    assert run_classifier(lam)[0] == word
    assert analysis.classify_stationary(eigenvalues) == short
    assert np.array_equal(analysis.curvature_class(lam), [region], equal_nan=True)


def test_classifiers_agree_on_random_spectra():
    rng = np.random.default_rng(1)
    lam = np.sort(rng.normal(size=(2000, 3)) * rng.choice([1e-12, 1.0, 1e6], size=(2000, 1)), axis=-1)
    lam[::7, 1] = 0.0
    words = curvature.classify_curvature(lam)
    shorts = [analysis.classify_stationary(row) for row in lam]
    assert [curvature.SHORT_KIND[w] for w in words] == shorts
    regions = analysis.curvature_class(lam)
    # A point that is a minimum lies in a convex region, a maximum in a concave one.
    assert (regions[words == "minimum"] == 1).all() and (regions[words == "maximum"] == -1).all()
    assert (regions[words == "saddle point"] == 0).all()


def test_backtracking_keeps_f_and_grad_of_its_trials_in_its_state():
    obj = optcore.parse(ROSENBROCK)
    X = np.array([[-1.2, 1.0], [0.3, 0.9], [1.5, 1.5]])
    f, g = obj.value_grad(X)
    rule = rules.line_search("backtracking", 1.0)
    oracle = StepOracle(obj, X, f, g, None, recording=False, trial_grads=True)
    update, state = rule.update(g, rule.init(X), X, 0, oracle)
    memo = rules.trial_memo((rules.EmptyState(), state))  # found inside a chain's state
    X_new = X + update
    f_known, g_known, hit = memo.known_at(X_new)  # each row's last trial...
    f_known, g_known = f_known.copy(), g_known.copy()
    memo.recall(X_new, hit, f_known, g_known)  # ...or an earlier one of a speculative call
    assert hit.all()
    assert np.array_equal(f_known, obj.value(X_new)) and np.array_equal(g_known, obj.grad(X_new))
    # An exact search ends between its trials: nothing to reuse, nothing kept.
    exact = rules.line_search("exact", 1.0)
    _, exact_state = exact.update(g, exact.init(X), X, 0, StepOracle(obj, X, f, g, None, False, True))
    assert rules.trial_memo(exact_state) is None


def _imports(path: Path) -> set[str]:
    """optcore modules a file imports (resolved to top-level module names under optcore)."""
    tree = ast.parse(path.read_text())
    package = path.relative_to(ENGINE.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
            else:
                parts = (node.module or "").split(".")
            if parts and parts[0] == "optcore" and len(parts) > 1:
                found.add(parts[1])
            elif parts == ["optcore"] or (node.level and not node.module):
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "optcore" and len(parts) > 1:
                    found.add(parts[1])
    return found


# The engine's layers, bottom first: a module may import only from layers below its own.
LAYERS = [
    {"rows", "curvature", "formula"},
    {"linesearch", "sandbox", "objective_cache"},
    {"rules", "objective"},
    {"methods", "oracle", "results"},
    {"driver"},
    {"run"},
    {"analysis"},
]


def test_engine_import_graph_points_down_only():
    layer_of = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    for name, i in layer_of.items():
        target = ENGINE / name
        files = sorted(target.glob("*.py")) if target.is_dir() else [target.with_suffix(".py")]
        for path in files:
            for imported in _imports(path) - {name}:
                if imported in layer_of:
                    assert layer_of[imported] < i, f"{path.name} ({name}) imports {imported}: an upward or sideways arrow"


def test_no_engine_module_of_mixed_topics_is_long():
    whole = {"formula.py", "rules.py"}  # the parser and the step-rule collection may stay whole
    for path in [*ENGINE.glob("*.py"), *(ENGINE / "analysis").glob("*.py")]:
        if path.name not in whole:
            assert len(path.read_text().splitlines()) <= 600, path


UI = ENGINE.parent / "ui"


def test_ui_modules_and_pages_are_short():
    """Issue 11: no module under ui/ over ~400 lines, no page over ~100 (pages are flat scripts:
    widgets in, engine, figure builder, out)."""
    for path in UI.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, path
    for path in (UI / "pages").glob("*.py"):
        assert len(path.read_text().splitlines()) <= 100, path


def test_every_chart_goes_through_ui_charts():
    """Charts are shown with `ui.charts.chart` only: it draws them with the figures' own template
    (Streamlit's theme made plotly.js measure every tick label) and at their column's known width
    (else a new chart is drawn hidden first, then again). One `st.plotly_chart` elsewhere brought both back."""
    for path in [*UI.glob("*.py"), *(UI / "pages").glob("*.py"), UI.parent / "app.py"]:
        if path.name != "charts.py":
            assert "plotly_chart(" not in path.read_text(), path


def test_the_views_with_scrubbed_charts_keep_them_out_of_tabs():
    """Streamlit's tab panel looks for a focusable child after every render and every change inside
    it, and each look makes the browser recompute the page's style: ~30 ms of every formula edit in
    the Playground before its chart was painted. These pages choose their view with
    `views.view_switch`, which draws the chosen chart outside any panel (and builds only that one)."""
    for name in ("playground.py", "compare.py", "lr_lab.py"):
        source = (UI / "pages" / name).read_text()
        assert "st.tabs(" not in source and "views.view_switch(" in source, name
