"""How many students can one replica take? A bounded load test on loopback.

    python deploy/load.py                      # starts its own replica on a free loopback port
    python deploy/load.py --url http://127.0.0.1:8601 --levels 1,2,4,8 --window 20

Each simulated student is one Streamlit session spoken to over its WebSocket with Streamlit's own
protocol (no browser: a headless Chromium per student would eat the CPU being measured). A student
opens the explorer, then edits the formula, waits for the answer, thinks for a few seconds (uniform
in --think), and edits again. The answer time is from sending the edit until the server reports the
script run finished (it has then sent the new chart; the browser's drawing is not included).
The number of students grows level by level; at each level the median answer time over --window
seconds is reported, and the run stops at the first level where it passes --limit (2 s).

Only loopback URLs are accepted, and the run is bounded: at most --max-minutes in total.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMULA_LABEL = "f(x) ="


def _messages():
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    return BackMsg, ForwardMsg


class Student:
    """One Streamlit session: the state the browser would keep (query string, page, formula widget)."""

    def __init__(self, url: str, number: int):
        self.url, self.number = url, number
        self.query = ""
        self.page_hash = ""
        self.formula_id: str | None = None
        self.ws = None
        self.edits = 0

    async def connect(self) -> None:
        import websockets
        parts = urllib.parse.urlsplit(self.url)
        self.ws = await websockets.connect(f"ws://{parts.netloc}/_stcore/stream", subprotocols=["streamlit"],
                                           origin=f"http://{parts.netloc}", max_size=None, open_timeout=120,
                                           ping_interval=None)
        await self._rerun(widgets=())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def _rerun(self, widgets) -> None:
        BackMsg, _ = _messages()
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        state.context_info.url = self.url + "/"
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-US"
        for widget_id, text in widgets:
            w = state.widget_states.widgets.add()
            w.id = widget_id
            w.string_value = text
        await self.ws.send(msg.SerializeToString())
        await self._until_finished()

    async def _until_finished(self) -> None:
        """Read messages until a script run ends for good (not one cut short by st.rerun)."""
        _, ForwardMsg = _messages()
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(self.ws.recv(), timeout=300))
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = msg.new_session.page_script_hash or self.page_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "text_input" and element.text_input.label == FORMULA_LABEL:
                    self.formula_id = element.text_input.id
            elif kind == "script_finished":
                if msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:   # another run follows
                    return

    async def edit(self) -> float:
        """Type a new formula; seconds until the server finished answering it."""
        if self.formula_id is None:
            raise RuntimeError("the formula box was not found on the page")
        self.edits += 1
        # the minimum is away from the start (0, 0), so every edit also runs a full trajectory
        text = f"(x - 1)^2 + {2 + (self.edits % 40)}(y + 0.5)^2 + 0.{self.number % 9 + 1}x*y"
        start = time.perf_counter()
        await self._rerun(widgets=[(self.formula_id, text)])
        elapsed = time.perf_counter() - start
        # the app writes its state into the URL: the edit counts only if the server took it
        shown = urllib.parse.parse_qs(self.query).get("f", [""])[0]
        if shown != text:
            raise RuntimeError(f"the server did not take the edit: {text!r} sent, the URL shows {shown!r}")
        return elapsed


async def run_level(url: str, students: list[Student], window: float, think: tuple[float, float],
                    deadline: float) -> list[float]:
    """All students edit and think in a loop for `window` seconds; the answer times of edits that
    started inside the window."""
    times: list[float] = []
    end = min(time.time() + window, deadline)

    async def loop(student: Student) -> None:
        await asyncio.sleep(random.uniform(0, think[1]))   # students do not press Enter together
        while time.time() < end:
            times.append(await student.edit())
            await asyncio.sleep(random.uniform(*think))

    await asyncio.gather(*(loop(s) for s in students))
    return times


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_replica(port: int) -> subprocess.Popen:
    """A replica with the production settings, as deploy/local.sh starts it."""
    run_dir = ROOT / "artifacts" / "load"
    (run_dir / ".streamlit").mkdir(parents=True, exist_ok=True)
    (run_dir / ".streamlit" / "config.toml").write_text((ROOT / "deploy" / "streamlit" / "config.toml").read_text())
    log = open(run_dir / f"replica-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                             "--server.address", "127.0.0.1"], cwd=run_dir, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(240):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"the replica did not start; see {log.name}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running replica (loopback only); default: start one")
    parser.add_argument("--pid", type=int, help="its process id, to report CPU seconds per edit")
    parser.add_argument("--levels", default="1,2,4,6,8,12,16,24", help="students per level")
    parser.add_argument("--window", type=float, default=25.0, help="seconds measured per level")
    parser.add_argument("--think", default="3,8", help="seconds between an answer and the next edit (min,max)")
    parser.add_argument("--limit", type=float, default=2.0, help="stop when the median answer passes this")
    parser.add_argument("--max-minutes", type=float, default=6.0, help="hard bound on the whole run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    levels = [int(v) for v in args.levels.split(",")]
    think = tuple(float(v) for v in args.think.split(","))
    if max(levels) > 64:
        parser.error("at most 64 students per level")

    proc = None
    if args.url:
        host = urllib.parse.urlsplit(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error("loopback URLs only (this is a load test)")
        url, pid = args.url.rstrip("/"), args.pid
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        proc = start_replica(port)
        url, pid = f"http://127.0.0.1:{port}", proc.pid

    deadline = time.time() + args.max_minutes * 60
    print(f"load test on {url}: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; "
          f"think {think[0]:g}-{think[1]:g} s, {args.window:g} s per level, limit {args.limit:g} s")
    print("| students | edits | median answer | 90th percentile | server CPU s / edit | load avg |")
    print("|---------:|------:|--------------:|----------------:|--------------------:|---------:|")
    rows = []

    async def measure():
        students: list[Student] = []
        try:
            for level in levels:
                if time.time() > deadline - args.window:
                    print(f"(stopped: the {args.max_minutes:g}-minute bound)")
                    break
                while len(students) < level:   # newcomers open the page first, outside the window
                    s = Student(url, len(students))
                    await s.connect()
                    students.append(s)
                cpu0 = cpu_seconds(pid) if pid else None
                times = await run_level(url, students, args.window, think, deadline)
                cpu = (cpu_seconds(pid) - cpu0) / len(times) if pid and times else float("nan")
                median = statistics.median(times) if times else float("inf")
                p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else median
                rows.append((level, median))
                print(f"| {level:8d} | {len(times):5d} | {median:11.2f} s | {p90:13.2f} s | {cpu:17.3f} s "
                      f"| {os.getloadavg()[0]:8.1f} |", flush=True)
                if median > args.limit:
                    break
        finally:
            await asyncio.gather(*(s.close() for s in students), return_exceptions=True)

    try:
        asyncio.run(measure())
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    within = [level for level, median in rows if median <= args.limit]
    over = [level for level, median in rows if median > args.limit]
    if over:
        print(f"median answer passes {args.limit:g} s at {over[0]} students on one replica "
              f"(last level within: {within[-1] if within else 'none'})")
    else:
        print(f"median answer stayed within {args.limit:g} s up to {rows[-1][0] if rows else 0} students")
    return 0


if __name__ == "__main__":
    sys.exit(main())
