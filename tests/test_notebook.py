"""The walkthrough notebook runs from top to bottom, as a reader would run it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "walkthrough.ipynb"


def _text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") or o.get("data", {}).get("text/plain", ""))
    return "\n".join(out)


def test_walkthrough_runs_and_tells_the_truth():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    text = _text(nb)
    # every plotting cell drew a picture inline
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 2
    # the sample patients' truth: anna improves, ben is stable, carla declines
    calls = dict(re.findall(r"^(\S+-\S+)\s+(improving|stable|declining|unreliable)$", text, re.M))
    assert calls == {
        "anna-improving": "improving",
        "ben-stable": "stable",
        "carla-declining": "declining",
    }, text[-2000:]
