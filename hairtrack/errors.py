"""Errors that hairtrack reports to a user in one readable line."""

from __future__ import annotations

from os import PathLike


class HairtrackError(Exception):
    """Base class for errors shown to a user as one line, never a traceback."""


class InputError(HairtrackError):
    """An input file hairtrack cannot use.

    Parameters
    ----------
    path : str or path-like
        The file that was refused.
    reason : str
        Why, in words a user can act on (no trailing full stop).
    """

    def __init__(self, path: str | PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        # pickled with its own arguments: a worker process sends it back to the report
        # (the default, ``cls(*args)`` with the joined message, fails to unpickle and
        # breaks the whole pool)
        return (type(self), (self.path, self.reason))
