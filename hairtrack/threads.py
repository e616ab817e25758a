"""Two independent stages run at the same time, when OpenCV may use more than one thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import cv2

_T = TypeVar("_T")
_U = TypeVar("_U")


def side_by_side(first: Callable[[], _T], second: Callable[[], _U]) -> tuple[_T, _U]:
    """``(first(), second())``, the two run at the same time (``second`` in a thread of
    its own) when OpenCV may use more than one thread, else one after the other.

    OpenCV and numpy release the GIL in their loops, so two photos' independent stages
    then share the cores. Kept to one thread (``cv2.setNumThreads(1)``: a worker of the
    batch report, where the cores belong to the worker processes), no thread is started.
    The two must be pure (no shared state written, no ``warnings.catch_warnings``,
    which is not thread-safe).

    Parameters
    ----------
    first, second : callable
        Called with no arguments.

    Returns
    -------
    tuple
        ``first()`` and ``second()``.
    """
    if cv2.getNumThreads() <= 1:
        return first(), second()
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(second)
        return first(), later.result()
