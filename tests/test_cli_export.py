"""The command line's export options: run --format py / --header / json provenance, plot --out .gif."""
from __future__ import annotations

import ast
import io
import json
import subprocess
import sys

import numpy as np
from PIL import Image

import optcore
from optcore import cli


def call(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(list(argv), out, err) == 0, err.getvalue()
    return out.getvalue()


def test_run_format_py_writes_a_script_that_reproduces_the_run(tmp_path):
    script = call("run", "--preset", "rosenbrock", "--method", "bfgs", "--format", "py")
    path = tmp_path / "rerun.py"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines())
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    traj = optcore.run(obj, "bfgs", [-1.2, 1.0], steps=500)
    assert lines["status"].split()[0] == traj.status
    np.testing.assert_allclose(ast.literal_eval(lines["final point"].strip()), traj.points[-1], atol=1e-12)


def test_run_json_has_provenance():
    data = json.loads(call("run", "--preset", "textbook-2d", "--format", "json"))
    prov = data["provenance"]
    assert prov["formula"] == "x1^2 + 2x2^2" and prov["steps"] == 20 and prov["tol"] == 1e-8
    assert prov["runs"][0]["method"] == "gd" and prov["runs"][0]["start"] == [-5.0, -2.0]
    assert len(data["points"]) == 21  # the trajectory itself is unchanged


def test_run_csv_header_lines_are_optional():
    plain = call("run", "--preset", "textbook-2d", "--format", "csv")
    annotated = call("run", "--preset", "textbook-2d", "--format", "csv", "--header")
    assert not plain.startswith("#")
    comments = [line for line in annotated.splitlines() if line.startswith("#")]
    assert comments[0].startswith("# f(x1, x2) = x1^2 + 2x2^2") and "optcore" in comments[-1]
    assert annotated.endswith(plain)


def test_plot_out_gif_needs_no_browser(tmp_path, monkeypatch):
    from optcore import export
    monkeypatch.setattr(export, "chromium_path", lambda: None)
    target = tmp_path / "run.gif"
    text = call("plot", "--preset", "rosenbrock", "--out", str(target))
    assert "wrote" in text
    im = Image.open(target)
    assert 30 <= im.n_frames <= 90 and target.stat().st_size <= 3_000_000


def test_plot_html_has_title_and_caption(tmp_path):
    target = tmp_path / "run.html"
    call("plot", "--preset", "textbook-2d", "--out", str(target))
    page = target.read_text(encoding="utf-8")
    assert "<title>f(x1, x2) = x1^2 + 2x2^2" in page and "<figcaption>" in page and "optcore" in page
