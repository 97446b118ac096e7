"""The example notebook (issue 15) runs end to end in a real Jupyter kernel: its cells assert the
course notes' numbers (α* = 0.4, r* = 3/5, the measured rates) and it displays Plotly figures."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "seed_walkthrough.ipynb"


@pytest.mark.slow
def test_seed_walkthrough_notebook_runs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    # the kernel starts in the checkout's root, where `import optcore` finds this checkout's engine
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stdout")
    assert "alpha* = 0.4" in text and "r* = 0.6" in text
    assert "measured contraction: 0.6" in text
    figures = [json.loads(json.dumps(o.data["application/vnd.plotly.v1+json"])) for o in outputs
               if o.output_type in ("display_data", "execute_result") and "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 2, "the rate curve and the contour with paths are displayed"
    rate, contour = figures
    names = [t.get("name", "") for t in contour["data"]]
    assert any("α = 0.4" in n for n in names) and any("α = 0.5" in n for n in names), names
    assert any(t.get("name") == "measured from a run" for t in rate["data"])
