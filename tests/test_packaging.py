"""Installable (issue 15): the wheel holds the engine and the explorer and nothing else, and a venv
outside the checkout gets `import optcore`, the `optcore` command and `optcore app`.

The slow test builds the wheel once from a clean copy of the checkout and installs it with --no-deps
into a fresh venv that sees this environment's packages through a .pth file (so no download), then
runs everything from a directory outside the checkout.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import site
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

from optcore import cli
from benchmarks.browser import free_port

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NOT_SHIPPED = (".git", ".venv", "artifacts", "build", "dist", "__pycache__", "*.egg-info", ".hypothesis",
               ".pytest_cache", "*.pyc")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _requirements(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(_name(line))
    return names


# ------------------------------------------------------------------------------------- metadata
def test_engine_installs_without_streamlit():
    """`pip install optcore` is the engine: NumPy, SymPy, Plotly; Streamlit only with the `app` extra."""
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    app = {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["app"]}
    assert core == {"numpy", "sympy", "plotly"}
    assert "streamlit" in app and "streamlit" not in core
    assert PYPROJECT["project"]["scripts"]["optcore"] == "optcore.cli:main"


def test_extras_cover_the_requirement_files():
    """What `bash dev.sh` installs and what `pip install optcore[app]` / `[dev]` installs agree by name."""
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    app = {_name(r) for r in project["dependencies"] + extras["app"]}
    dev = app | {_name(r) for r in extras["dev"]}
    assert _requirements(ROOT / "requirements.txt") <= app
    assert _requirements(ROOT / "requirements-dev.txt") <= dev


def test_app_help_does_not_start_a_server():
    out = io.StringIO()
    assert cli.main(["app", "--help"], out=out) == 0
    assert "optcore app" in out.getvalue() and "--server.port" in out.getvalue()


# ------------------------------------------------------------------------------------- the wheel
def _setuptools_builds_wheels() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the checkout (the checkout itself stays clean)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SHIPPED), symlinks=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(work / "dist"),
           str(source)]
    if _setuptools_builds_wheels():
        cmd.insert(4, "--no-build-isolation")   # no download: requirements-dev.txt has setuptools
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    (found,) = (work / "dist").glob("optcore-*.whl")
    return found


@pytest.mark.slow
def test_wheel_holds_the_engine_and_the_explorer_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names}
    assert top == {"optcore", "optcore_app", f"{wheel.name.split('-py3')[0]}.dist-info"}, top

    engine = {n for n in names if n.startswith("optcore/")}
    expected_engine = {f"optcore/{p.relative_to(ROOT / 'optcore').as_posix()}"
                       for p in (ROOT / "optcore").rglob("*.py")}
    expected_engine |= {f"optcore/vendor/{p.name}" for p in (ROOT / "optcore" / "vendor").iterdir()}
    assert engine == expected_engine

    app = {n.removeprefix("optcore_app/") for n in names if n.startswith("optcore_app/")}
    expected_app = {"app.py", ".streamlit/config.toml"}
    expected_app |= {p.relative_to(ROOT).as_posix() for d in ("ui", "ui/pages") for p in (ROOT / d).glob("*.py")}
    assert app == expected_app, app ^ expected_app

    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "optcore = optcore.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv outside the checkout with the wheel installed; other packages come from this
    environment through a .pth file (a venv made with --system-site-packages would see the base
    interpreter's packages, not this venv's)."""
    home = tmp_path_factory.mktemp("venv")
    env_dir = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    (own_site,) = (env_dir / "lib").glob("python3*/site-packages")
    parents = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (own_site / "_optcore_test_parent.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in parents))
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300, cwd=home)
    return env_dir


def _outside_env() -> dict:
    """The environment of a user's shell: nothing points back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return env


@pytest.mark.slow
def test_installed_engine_and_cli_run_outside_the_checkout(venv):
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import optcore; print(optcore.__file__)"],
                           cwd=venv.parent, env=_outside_env(), capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout

    result = subprocess.run([str(venv / "bin" / "optcore"), "run", "x^2", "--method", "gd", "--x0", "10",
                             "--steps", "10", "--lr", "0.2"],
                            cwd=venv.parent, env=_outside_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-2].split()
    # the textbook's x^2 run: each step multiplies x by (1 - 2 * 0.2)
    assert last[0] == "10" and float(last[1]) == pytest.approx(10 * (1 - 2 * 0.2) ** 10, rel=1e-9)

    bad = subprocess.run([str(venv / "bin" / "optcore"), "run", "x^^2", "--x0", "1"],
                         cwd=venv.parent, env=_outside_env(), capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr


def _get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


@pytest.mark.slow
def test_optcore_app_serves_the_installed_explorer(venv):
    port = free_port()
    log = open(venv.parent / "app.log", "w+")
    proc = subprocess.Popen([str(venv / "bin" / "optcore"), "app", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=venv.parent, env=_outside_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 90
        while time.time() < deadline and proc.poll() is None and _get(f"http://127.0.0.1:{port}/_stcore/health")[1] != "ok":
            time.sleep(0.3)
        log.seek(0)
        assert _get(f"http://127.0.0.1:{port}/_stcore/health") == (200, "ok"), log.read()[-2000:]
        # `optcore app` handed its process to Streamlit, which runs the installed app.py
        script = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[4].decode()
        assert Path(script).is_relative_to(venv) and script.endswith("optcore_app/app.py"), script
        assert _get(f"http://127.0.0.1:{port}/")[0] == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.mark.slow
def test_installed_explorer_runs_its_pages(venv):
    """The installed app.py finds ui/ and pages/ beside it and runs a page without an exception."""
    check = """
import sys
from pathlib import Path
import optcore_app
from streamlit.testing.v1 import AppTest
script = Path(list(optcore_app.__path__)[0]) / "app.py"
at = AppTest.from_file(str(script), default_timeout=120)
at.query_params["view"] = "curvature"
at.run()
assert not at.exception, [e.value for e in at.exception]
import ui.state
print(script, ui.state.__file__, len(at.get("plotly_chart")))
"""
    result = subprocess.run([str(venv / "bin" / "python"), "-c", check], cwd=venv.parent, env=_outside_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    script, frame, charts = result.stdout.split()
    assert Path(script).is_relative_to(venv) and Path(frame).is_relative_to(venv), result.stdout
    assert int(charts) >= 1


# ------------------------------------------------------------------------------------- container files
def test_dockerfile_copies_files_that_exist():
    """Docker cannot be run here; at least every file the image is built from must exist, and the
    build context (.dockerignore) must not drop one of them."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    sources = []
    for line in dockerfile.splitlines():
        words = [w for w in line.split() if not w.startswith("--")]
        if words[:1] == ["COPY"]:
            sources += words[1:-1]
    assert {"pyproject.toml", "app.py", "optcore/", "ui/", "deploy/streamlit/config.toml"} <= set(sources)
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source.rstrip("/").split("/")[0] not in ignored, source
    assert "HEALTHCHECK" in dockerfile and "/_stcore/health" in dockerfile
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.M), "the app runs as a non-root user"


def test_production_config_keeps_streamlit_protections():
    config = tomllib.loads((ROOT / "deploy" / "streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none" and config["server"]["maxUploadSize"] == 0
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"].get("enableCORS", True) and config["server"].get("enableXsrfProtection", True)


def test_committed_proxy_config_is_the_generated_one():
    generated = subprocess.run(["bash", str(ROOT / "deploy" / "nginx-conf.sh"), "80", "app1:8501", "app2:8501",
                                "app3:8501"], capture_output=True, text=True, check=True).stdout
    assert generated == (ROOT / "deploy" / "nginx.conf").read_text()
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    assert all(f"  app{i}: *explorer" in compose for i in (1, 2, 3))
    # WebSocket upgrade and cookie affinity, with only known replica ids accepted from the cookie
    assert "proxy_set_header Upgrade $http_upgrade;" in generated
    assert re.search(r"map \$cookie_optcore_replica \$explorer_replica \{\s+default \$new_replica;", generated)
