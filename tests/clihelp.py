"""Running the ``hairtrack`` command line from the tests, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``python -m hairtrack ARGS`` in ``cwd`` (the repository by default), output kept."""
    return subprocess.run(
        [sys.executable, "-m", "hairtrack", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=900,
        env={**os.environ, **(env or {})},
    )
