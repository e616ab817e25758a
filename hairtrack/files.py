"""Writing files safely: every output hairtrack writes goes through :func:`write_atomic`."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from os import PathLike
from typing import Any


def write_atomic(path: str | PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a half-written file.

    The bytes go to a temporary file in the target's folder (created if needed), are
    flushed to disk, and then replace the target in one step (:func:`os.replace`). A
    failed or interrupted write leaves the old file, if any, intact and no temporary
    file behind.

    Parameters
    ----------
    path : str or path-like
    data : bytes
    """
    target = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    # 0o666 lets the umask set the final permissions, as a plain open would
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_json(path: str | PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON, atomically (:func:`write_atomic`)."""
    write_atomic(path, (json.dumps(obj, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
