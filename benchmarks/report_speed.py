"""How long the batch report takes: on sample_images, and 1 vs 2 workers on a larger cohort.

Run:  .venv/bin/python benchmarks/report_speed.py [--patients N] [--skip-cohort]

Prints (goals from the report issue):
- wall time of ``hairtrack report sample_images`` with 2 workers into an empty folder (goal:
  well under a minute on 2 cores), and of a second run with nothing new (the cache);
- on a synthetic cohort of N patients (default 6: the sample set made with other seeds),
  the wall time with 1 and with 2 workers, and their ratio (goal >= 1.7 on 2 cores), and
  the CPU time of each run. Each worker keeps to one core (OpenCV's own threads off), so
  N workers use N cores;
- for comparison, the one-worker run with OpenCV's own threads left on (as the report ran
  before workers were kept to one core, and as ``hairtrack measure`` runs): one process
  then keeps part of the second core busy, which bounds what a second worker can add.

Timings are wall clock on this machine as it is; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hairtrack import synth  # noqa: E402
from hairtrack.report import report  # noqa: E402


@contextlib.contextmanager
def _opencv_threads_left_on():
    """The inline worker as before: it does not turn OpenCV's own threads off."""
    import cv2

    keep = cv2.setNumThreads
    cv2.setNumThreads = lambda n: None
    try:
        yield
    finally:
        cv2.setNumThreads = keep


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(src: Path, out: Path, **kw) -> tuple[float, float]:
    """Wall and CPU seconds of one report."""
    t0, c0 = time.perf_counter(), _cpu()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report(src, out, **kw)
    return time.perf_counter() - t0, _cpu() - c0


def _cohort(root: Path, n: int) -> Path:
    """``n`` phantom patients: the sample set's three kinds, made with other seeds."""
    cohort = root / "cohort"
    seed = 1
    while len(list(cohort.glob("*"))) < n:
        tmp = root / f"seed{seed}"
        synth.make_sample_set(tmp, seed=seed)
        for p in sorted(tmp.iterdir()):
            if len(list(cohort.glob("*"))) < n:
                shutil.copytree(p, cohort / f"{p.name}-{seed}")
        shutil.rmtree(tmp)
        seed += 1
    return cohort


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=6, help="patients in the larger cohort")
    ap.add_argument("--skip-cohort", action="store_true", help="only the sample_images timing")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t_sample, _ = _timed(REPO / "sample_images", root / "s", workers=2)  # empty cache
        t_warm, _ = _timed(REPO / "sample_images", root / "s", workers=2)  # nothing new
        print(f"sample_images, 2 workers, first run: {t_sample:6.1f} s (goal: well under 60 s)")
        print(f"sample_images, second run, nothing new: {t_warm:6.1f} s")
        if args.skip_cohort:
            return
        cohort = _cohort(root, args.patients)
        t1, c1 = _timed(cohort, root / "c1", workers=1, cache=False)
        t2, c2 = _timed(cohort, root / "c2", workers=2, cache=False)
        print(
            f"cohort of {args.patients} patients: 1 worker {t1:.1f} s, 2 workers {t2:.1f} s, "
            f"speed-up {t1 / t2:.2f}x (goal >= 1.7 on 2 cores)"
        )
        print(
            f"  CPU time: 1 worker {c1:.1f} s ({c1 / t1:.2f} cores busy on average), "
            f"2 workers {c2:.1f} s ({c2 / t2:.2f} cores busy)"
        )
        with _opencv_threads_left_on():
            t1t, c1t = _timed(cohort, root / "c1t", workers=1, cache=False)
        print(
            f"  1 worker with OpenCV's own threads on: {t1t:.1f} s ({c1t / t1t:.2f} cores "
            f"busy); 2 workers are {t1t / t2:.2f}x faster than that"
        )


if __name__ == "__main__":
    main()
