"""Every tunable number of hairtrack, in one frozen object.

Each stage has its own frozen dataclass of parameters; :class:`Params` groups them.
A stage's function takes the same names as keyword arguments, so a caller can pass
``**asdict(params.load)`` or override a single value.

Examples
--------
>>> from hairtrack.config import Params
>>> p = Params()
>>> p.load.max_pixels
100000000
>>> p2 = p.replace(load={"max_pixels": 50_000_000})
>>> p2.load.max_pixels
50000000
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


@dataclass(frozen=True)
class LoadParams:
    """Parameters of :mod:`hairtrack.load`.

    Attributes
    ----------
    max_pixels : int
        Largest image (width x height) accepted; larger files are refused as possible
        decompression bombs. 100 MP covers every phone and dermoscope sold today.
    min_side : int
        Smallest width or height accepted, in pixels.
    """

    max_pixels: int = 100_000_000
    min_side: int = 16


@dataclass(frozen=True)
class Params:
    """All of hairtrack's parameters, grouped by stage.

    Load from a TOML file with :meth:`from_toml`; a file needs only the values it
    changes, in tables named after the stages (``[load]``, ...).
    """

    load: LoadParams = field(default_factory=LoadParams)

    def replace(self, **stages: dict[str, Any]) -> Params:
        """Return a copy with some values of some stages changed.

        Parameters
        ----------
        **stages : dict
            ``stage_name={"param": value, ...}``.

        Returns
        -------
        Params
        """
        changes = {}
        for name, values in stages.items():
            current = getattr(self, name, None)
            if current is None or not dataclasses.is_dataclass(current):
                raise ValueError(f"unknown parameter group {name!r}; known: {self.groups()}")
            known = {f.name for f in dataclasses.fields(current)}
            unknown = set(values) - known
            if unknown:
                raise ValueError(
                    f"unknown parameter(s) {sorted(unknown)} in [{name}]; known: {sorted(known)}"
                )
            changes[name] = dataclasses.replace(current, **values)
        return dataclasses.replace(self, **changes)

    @classmethod
    def groups(cls) -> list[str]:
        """Names of the parameter groups, one per stage."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_toml(cls, path: str | PathLike[str]) -> Params:
        """Read parameters from a TOML file; missing values keep their defaults.

        Parameters
        ----------
        path : str or path-like
            A TOML file with one table per stage.

        Returns
        -------
        Params
        """
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        return cls().replace(**data)

    def to_dict(self) -> dict[str, Any]:
        """All parameters as plain nested dicts (for ``run.json``)."""
        return dataclasses.asdict(self)
