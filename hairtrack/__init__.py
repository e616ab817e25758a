"""hairtrack: measure hair regrowth from scalp photos."""

from __future__ import annotations

from typing import Any

from hairtrack.config import Params
from hairtrack.errors import HairtrackError, InputError

__version__ = "0.1.0"

__all__ = [
    "HairtrackError",
    "InputError",
    "Params",
    "__version__",
    "analyse_patients",
]

# heavier entry points, imported on first use so that ``import hairtrack`` stays light.
# (``report``, ``scan``, ``measure`` and ``compare`` are also module names: a function
# of the same name would be shadowed by its module once imported; call them as
# ``hairtrack.report.report`` ...)
_LAZY = {
    "analyse_patients": ("hairtrack.series", "analyse_patients"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'hairtrack' has no attribute {name!r}")
