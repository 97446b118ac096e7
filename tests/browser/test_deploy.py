"""A class behind the proxy (issue 15): `deploy/local.sh start` runs two replicas behind Debian's
nginx; twelve browser sessions go through the proxy (in waves of four, all twelve kept open), each
types its own formula, stays on one replica for every request (the nginx access log, tagged per
browser, says which replica answered each request, the WebSocket included), and sees only its own
state. The health check answers throughout, and `deploy/local.sh stop` leaves nothing running."""
from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import FORMULA, ROOT, SCREENSHOTS, bb, health

SESSIONS = 12
WAVE = 4
TIMEOUT_MS = 240_000
LOG_LINE = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) \d+ replica=(?P<replica>\S*) '
                      r'upstream=(?P<upstream>\S*) rt=\S+ tag=(?P<tag>\S+)')


def formula(i: int) -> str:
    return f"x^2 + {i + 2}y^2"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _bindable(port: int) -> bool:
    """A listening socket can take the port now (as a replica or nginx will)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> tuple[int, int]:
    """A proxy port and the first of two consecutive replica ports, all free. Taken below the kernel's
    ephemeral range: a port the OS hands out for outgoing connections (the browsers', the health checks')
    can be taken between this check and a replica's bind, and a replica on a taken port exits."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    below = (20000, low - 3) if low > 21000 else (20000, 65000)
    rng = random.Random()
    for _ in range(200):
        proxy = rng.randrange(*below)
        first = proxy + 1
        if all(_bindable(p) and _port_free(p) for p in (proxy, first, first + 1)):
            return proxy, first
    raise RuntimeError("no free ports")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours counts as gone
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


async def idle(page) -> None:
    await page.wait_for_selector(bb.IDLE, timeout=TIMEOUT_MS)
    await page.wait_for_timeout(300)
    await page.wait_for_selector(bb.IDLE, timeout=TIMEOUT_MS)


async def own_state(page) -> dict:
    return await page.evaluate("""async sel => {
        const r = await fetch('/_stcore/health', {cache: 'no-store'});
        return {formula: document.querySelector(sel).value,
                url: decodeURIComponent(location.search.replace(/\\+/g, ' ')),
                health: await r.text(), replica: r.headers.get('x-explorer-replica'),
                errors: document.querySelectorAll("[data-testid='stException']").length};
    }""", FORMULA)


async def open_session(browser, url: str, i: int, results: dict) -> None:
    context = await browser.new_context(viewport={"width": 1100, "height": 800})
    await context.add_cookies([{"name": "optcore_tag", "value": f"s{i}", "url": url}])
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    results["pages"][i] = page
    try:
        response = await page.goto(url + "/")
        first = response.headers.get("x-explorer-replica")
        await page.wait_for_function("() => location.search.includes('view=')", timeout=TIMEOUT_MS)
        await idle(page)
        box = page.locator(FORMULA)
        await box.fill(formula(i))
        await box.press("Enter")
        await page.wait_for_function(
            "t => decodeURIComponent(location.search.replace(/\\+/g, ' ')).includes('f=' + t + '&')",
            arg=formula(i), timeout=TIMEOUT_MS)
        await idle(page)
        cookies = {c["name"]: c["value"] for c in await context.cookies()}
        results["sessions"][i] = dict(await own_state(page), first=first, cookie=cookies.get("optcore_replica"))
    except Exception as err:  # recorded, asserted in the test
        results["errors"].append(f"session {i}: {type(err).__name__}: {err}"[:500])


@pytest.fixture
def deployment(tmp_path):
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.fail("Debian's nginx is required: apt-get install -y nginx-light (bash dev.sh test does this)")
    proxy, first = _ports()
    run_dir = tmp_path / "deploy"
    env = dict(os.environ, RUN_DIR=str(run_dir), PYTHON=sys.executable, REPLICAS="2", PROXY_PORT=str(proxy),
               FIRST_PORT=str(first), ADDRESS="127.0.0.1")
    script = ["bash", str(ROOT / "deploy" / "local.sh")]
    started = subprocess.run([*script, "start"], env=env, capture_output=True, text=True, timeout=300)
    pidfiles = [run_dir / "nginx" / "nginx.pid", run_dir / "replica-1.pid", run_dir / "replica-2.pid"]
    pids = [int(p.read_text()) for p in pidfiles if p.exists()]
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert len(pids) == 3, started.stdout
        yield dict(url=f"http://127.0.0.1:{proxy}", replicas=[f"127.0.0.1:{first}", f"127.0.0.1:{first + 1}"],
                   run_dir=run_dir, pids=pids)
    finally:
        stopped = subprocess.run([*script, "stop"], env=env, capture_output=True, text=True, timeout=120)
        # local.sh stop ends exactly what start started: no process, no listening port left
        deadline = time.time() + 20
        while time.time() < deadline and any(_alive(pid) for pid in pids):
            time.sleep(0.2)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not [pid for pid in pids if _alive(pid)], stopped.stdout
    assert all(_port_free(p) for p in (proxy, first, first + 1))


def test_twelve_sessions_through_the_proxy(deployment):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    url = deployment["url"]
    stop = threading.Event()
    checks: list[tuple[str, str | None]] = []

    def poll_health():
        while not stop.is_set():
            checks.append(("proxy", health(url, timeout=5)))
            for replica in deployment["replicas"]:
                checks.append((replica, health(f"http://{replica}", timeout=5)))
            stop.wait(1.0)

    results: dict = {"pages": {}, "sessions": {}, "errors": []}
    poller = threading.Thread(target=poll_health, daemon=True)
    poller.start()

    async def main():
        from playwright.async_api import async_playwright
        async with async_playwright() as p:
            browser = await bb.launch_browser_async(p)
            for start in range(0, SESSIONS, WAVE):   # small waves for two cores; earlier ones stay open
                await asyncio.gather(*(open_session(browser, url, i, results)
                                       for i in range(start, min(start + WAVE, SESSIONS))))
            # with all twelve open, each page still shows its own formula, from its own replica
            for i, page in results["pages"].items():
                try:
                    results["sessions"].setdefault(i, {})["later"] = await own_state(page)
                except Exception as err:  # noqa: BLE001
                    results["errors"].append(f"session {i} later: {type(err).__name__}: {err}"[:500])
            await results["pages"][0].screenshot(path=str(SCREENSHOTS / "deploy_session_0.png"))
            await browser.close()   # closes every WebSocket: nginx logs them now

    runner = threading.Thread(target=lambda: asyncio.run(main()))
    runner.start()
    runner.join(timeout=TIMEOUT_MS / 1000 * 3)
    stop.set()
    poller.join(timeout=15)
    assert not runner.is_alive(), "the sessions did not finish"
    assert not results["errors"], results["errors"]

    replica_of_session = {}
    for i in range(SESSIONS):
        state = results["sessions"][i]
        own = formula(i)
        for seen in (state, state["later"]):
            assert seen["formula"] == own and f"f={own}&" in seen["url"], (i, seen)
            others = [formula(j) for j in range(SESSIONS) if j != i]
            assert not any(f"f={o}&" in seen["url"] for o in others), (i, seen["url"])
            assert seen["errors"] == 0 and seen["health"] == "ok", (i, seen)
        assert state["cookie"] in ("r1", "r2"), state
        assert state["first"] == state["replica"] == state["later"]["replica"] == state["cookie"], (i, state)
        replica_of_session[i] = state["cookie"]

    # The access log: every request of a session, its first page and its WebSocket included, went to
    # the replica of its cookie (r1 -> first port, r2 -> second), and none failed over.
    address = {"r1": deployment["replicas"][0], "r2": deployment["replicas"][1]}
    lines = (deployment["run_dir"] / "nginx" / "logs" / "access.log").read_text().splitlines()
    by_session = defaultdict(list)
    for line in lines:
        m = LOG_LINE.search(line)
        if m and m["tag"].startswith("s"):
            by_session[int(m["tag"][1:])].append(m.groupdict())
    for i in range(SESSIONS):
        requests = by_session[i]
        upstreams = {r["upstream"] for r in requests}
        assert upstreams == {address[replica_of_session[i]]}, (i, upstreams)
        streams = [r for r in requests if r["path"].startswith("/_stcore/stream")]
        assert streams and all(r["status"] == "101" for r in streams), (i, streams)
        assert requests[0]["path"] == "/" and requests[0]["replica"] == replica_of_session[i], (i, requests[0])
    # New browsers are spread at random: with 12, both replicas serve someone (all on one: p = 2^-11).
    assert set(replica_of_session.values()) == {"r1", "r2"}, replica_of_session

    bad = [c for c in checks if c[1] != "ok"]
    assert len(checks) >= 9 and not bad, f"{len(bad)} of {len(checks)} health checks failed: {bad[:5]}"
    print(f"\nsessions per replica: r1 {list(replica_of_session.values()).count('r1')}, "
          f"r2 {list(replica_of_session.values()).count('r2')}; {len(lines)} proxied requests; "
          f"{len(checks)} health checks ok")
