"""`python -m optcore`: run, plot, methods, presets, and what a mistake looks like.

Most tests start a real process, as a user would; mistakes must end with exit status 2 and exactly
one line on stderr, never a traceback.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import optcore
from optcore import cli
from optcore.export import chromium_path
from optcore.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]


def optcore_cmd(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("OPTCORE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "optcore", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


# ------------------------------------------------------------------------------------- run
def test_run_json_reproduces_the_textbook():
    """Seed 001: gd on x² from 10 with η = 0.2 prints `epoch 10, x: 0.060466`."""
    result = optcore_cmd("run", "x^2", "--method", "gd", "--x0", "10", "--steps", "10", "--lr", "0.2",
                         "--tol", "0", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["method"] == "gd" and data["params"]["lr"] == 0.2
    assert len(data["points"]) == 11
    assert f"{data['points'][-1][0]:f}" == "0.060466"


def test_run_json_2d_with_negative_start():
    """Seed 001: train_2d(gd_2d) from (−5, −2), η = 0.1, prints `epoch 20, x1: -0.057646, x2: -0.000073`."""
    result = optcore_cmd("run", "x1^2 + 2x2^2", "--x0", "-5", "-2", "--steps", "20", "--lr", "0.1",
                         "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["variables"] == ["x1", "x2"]
    x1, x2 = data["points"][-1]
    assert (f"{x1:f}", f"{x2:f}") == ("-0.057646", "-0.000073")


def test_run_preset_uses_its_formula_start_and_first_run():
    result = optcore_cmd("run", "--preset", "textbook-xcos-newton", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["method"] == "newton" and data["params"]["lr"] == 1.0
    assert data["points"][0] == [10.0]
    assert f"{data['points'][-1][0]:.4f}" == "26.8341"  # seed 001: Newton η = 1 climbs to a maximum


def test_run_preset_with_other_method_and_lr():
    result = optcore_cmd("run", "--preset", "textbook-xcos-newton", "--lr", "0.5", "--steps", "10",
                         "--tol", "0", "--format", "json")
    data = json.loads(result.stdout)
    assert f"{data['points'][-1][0]:.4f}" == "7.2699"  # seed 001: newton(0.5)


def test_run_csv_has_a_header_and_one_row_per_point():
    result = optcore_cmd("run", "--preset", "textbook-2d", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:5] == ["step", "x1", "x2", "f", "grad_norm"]
    assert len(rows) == 1 + 21
    assert float(rows[-1][1]) == pytest.approx(-0.057646, abs=5e-7)


def test_run_table_is_readable():
    result = optcore_cmd("run", "cosh(0.5x)", "--method", "newton", "--x0", "10", "--steps", "10")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["step", "x", "f", "|grad", "f|"]
    assert lines[1].split()[:2] == ["0", "10"]
    assert lines[-1].startswith("converged: ")


def test_run_table_every_kth_step():
    result = optcore_cmd("run", "--preset", "rosenbrock", "--every", "100")
    assert result.returncode == 0, result.stderr
    steps = [line.split()[0] for line in result.stdout.splitlines()[1:-1]]
    assert steps == ["0", "100", "200", "300", "400", "500"]
    assert result.stdout.splitlines()[-1].startswith("max_steps: ")


def test_run_param_and_variables_options():
    result = optcore_cmd("run", "x^2 + 10y^2", "--method", "momentum", "--x0", "1", "2", "--steps", "5",
                         "--param", "beta=0.5", "lr=0.01", "--variables", "y", "x", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["variables"] == ["y", "x"]
    assert data["params"]["beta"] == 0.5 and data["params"]["lr"] == 0.01
    assert data["points"][0] == [1.0, 2.0]


# ------------------------------------------------------------------------------------- mistakes
def test_bad_formula_is_one_line_with_the_column():
    line = assert_one_line_error(optcore_cmd("run", "(x+1))^2", "--x0", "1"), "column")
    assert "unexpected ')'" in line


def test_unknown_function_is_one_line():
    assert_one_line_error(optcore_cmd("run", "foo(x)", "--x0", "1"), "foo")


def test_unknown_method_lists_the_methods():
    assert_one_line_error(optcore_cmd("run", "x^2", "--method", "sgdx", "--x0", "1"), "sgdx", "gd", "newton")


def test_unknown_option_is_one_line():
    assert_one_line_error(optcore_cmd("run", "x^2", "--x0", "1", "--speed", "3"), "--speed")


def test_bad_number_is_one_line():
    assert_one_line_error(optcore_cmd("run", "x^2", "--x0", "one"), "--x0")


def test_wrong_number_of_coordinates():
    assert_one_line_error(optcore_cmd("run", "x^2 + y^2", "--x0", "1"), "--x0", "2")


def test_parameter_the_method_does_not_take():
    assert_one_line_error(optcore_cmd("run", "x^2", "--x0", "1", "--param", "beta=0.9"), "beta", "lr")


def test_malformed_param():
    assert_one_line_error(optcore_cmd("run", "x^2", "--x0", "1", "--param", "beta"), "name=value")


def test_unknown_preset_and_missing_formula():
    assert_one_line_error(optcore_cmd("run", "--preset", "nope"), "nope")
    assert_one_line_error(optcore_cmd("run", "--x0", "1"), "FORMULA")


def test_plot_bad_suffix_and_too_many_variables(tmp_path):
    assert_one_line_error(optcore_cmd("plot", "x^2", "--x0", "1", "--out", str(tmp_path / "a.pdf")), ".html")
    assert_one_line_error(optcore_cmd("plot", "x^2 + y^2 + z^2", "--x0", "1", "1", "1", "--out",
                                      str(tmp_path / "a.html")), "3")
    assert not list(tmp_path.iterdir())


def test_help_exits_zero():
    result = optcore_cmd("run", "--help")
    assert result.returncode == 0 and "--method" in result.stdout


# ------------------------------------------------------------------------------------- listings
def test_methods_lists_every_method_with_parameters():
    result = optcore_cmd("methods")
    assert result.returncode == 0, result.stderr
    for name, spec in optcore.METHODS.items():
        assert f"\n{name} " in "\n" + result.stdout
        for p in spec.params:
            assert f"{p.name}=" in result.stdout


def test_presets_lists_every_preset():
    result = optcore_cmd("presets")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == list(PRESETS)


# ------------------------------------------------------------------------------------- plot
def test_plot_writes_animated_html(tmp_path):
    out = tmp_path / "rosenbrock.html"
    result = optcore_cmd("plot", "(1-x)^2 + 100(y-x^2)^2", "--methods", "gd:lr=0.001,bfgs,newton",
                         "--x0", "-1.2", "1", "--steps", "60", "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "<html" in html[:200].lower() and html.rstrip().endswith("</html>")
    assert "Plotly.newPlot" in html and "Plotly.addFrames" in html  # plotly.js inline, animation frames
    for label in ("gd (lr=0.001)", "bfgs", "newton"):
        assert label in html
    assert "wrote" in result.stdout


def test_plot_one_variable_curve(tmp_path):
    out = tmp_path / "x2.html"
    result = optcore_cmd("plot", "--preset", "textbook-x2-divergent", "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "gd (lr=1.1)" in html and "gd (lr=0.05)" in html


@pytest.mark.slow
@pytest.mark.skipif(chromium_path() is None, reason="static images need Chrome/Chromium")
def test_plot_png_and_svg(tmp_path):
    png, svg = tmp_path / "saddle.png", tmp_path / "saddle.svg"
    for out in (png, svg):
        result = optcore_cmd("plot", "--preset", "blog-sin-saddle", "--out", str(out), timeout=180)
        assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:400]


# ------------------------------------------------------------------------------------- in-process
def test_parse_value_and_method_lists():
    assert cli.parse_value("0.5") == 0.5 and cli.parse_value("3") == 3
    assert cli.parse_value("true") is True and cli.parse_value("exact") == "exact"
    assert cli.parse_method_list("gd:lr=0.2,gd:lr=0.05:line_search=exact, newton") == [
        ("gd", {"lr": 0.2}), ("gd", {"lr": 0.05, "line_search": "exact"}), ("newton", {})]
    with pytest.raises(cli.UsageError):
        cli.parse_method_list(",")


def test_main_returns_status_without_exiting():
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["run", "x^2", "--x0", "3", "--steps", "2", "--format", "csv"], out, err) == 0
    assert out.getvalue().startswith("step,x,f,")
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["run", "x^^2", "--x0", "3"], out, err) == 2
    assert err.getvalue().count("\n") == 1 and out.getvalue() == ""


# ------------------------------------------------------------------------ hostile arguments
def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv, fragment", [
    (("--lr", "nan"), "--lr: expected a finite number"),
    (("--lr", "inf"), "--lr: expected a finite number"),
    (("--lr", "-1"), "--lr: must be more than 0"),
    (("--lr", "0"), "--lr: must be more than 0"),
    (("--tol", "nan"), "--tol: expected a finite number"),
    (("--tol", "-1"), "--tol: must be 0 or more"),
    (("--param", "noise=1e308"), "noise=1e+308 is outside its range [0, 1e+06]"),
    (("--param", "noise=nan"), "noise must be a finite number"),
    (("--param", "lr=-0.5"), "lr=-0.5 is outside its range"),
])
def test_non_finite_and_out_of_range_numbers_exit_2(argv, fragment):
    status, out, err = _main("run", "x^2", "--x0", "1", "--steps", "3", *argv)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and fragment in err, err
    assert len(err.strip().splitlines()) == 1


def test_steps_are_capped_with_a_note():
    status, out, err = _main("run", "x^2", "--x0", "1", "--steps", "1000000", "--tol", "0", "--every", "1000")
    assert status == 0
    assert f"running {cli.MAX_STEPS} steps" in err
    rows = out.splitlines()[1:-1]
    assert rows[-1].split()[0] == str(cli.MAX_STEPS)  # ran to the cap, not to a million
    assert len(out) < 100_000


def test_plot_window_nan_and_exponent_numbers(tmp_path):
    out_file = str(tmp_path / "w.html")
    status, _, err = _main("plot", "x^2", "--x0", "1", "--window", "nan", "1", "--out", out_file)
    assert status == 2 and "--window: expected a finite number" in err
    # "-1e308" is a number, not an unknown option; it is refused for its size, with exit status 2
    status, _, err = _main("plot", "x^2", "--x0", "1", "--window", "-1e308", "1e308", "--out", out_file)
    assert status == 2 and "--window: values must lie within" in err, err
    status, _, err = _main("plot", "x^2", "--x0", "1", "--window", "-2e0", "3.5e0", "--steps", "3",
                           "--out", out_file)
    assert status == 0, err
    assert Path(out_file).exists()


def test_a_start_in_exponent_notation_is_a_number():
    status, out, _ = _main("run", "x^2", "--x0", "-1e3", "--steps", "1", "--lr", "0.1", "--format", "csv")
    assert status == 0 and "-1000" in out


@pytest.mark.parametrize("where", ["missing folder", "a folder", "read-only folder"])
def test_bad_out_paths_exit_2_before_any_work(tmp_path, where):
    if where == "missing folder":
        target = tmp_path / "nope" / "plot.html"
    elif where == "a folder":
        target = tmp_path / "plot.html"
        target.mkdir()
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "plot.html"
        if os.access(locked, os.W_OK):  # running as root: permissions are not enforced
            pytest.skip("permissions are not enforced for this user")
    status, out, err = _main("plot", "x^2", "--x0", "1", "--steps", "3", "--out", str(target))
    assert status == 2 and out == "" and err.startswith("error: --out"), err
