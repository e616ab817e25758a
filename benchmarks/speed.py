"""Speed and memory of measure and compare at 12 MP, as ratios to JPEG decoding.

Run:  .venv/bin/python benchmarks/speed.py [--repeat N] [--phantoms DIR]

Machines are noisy, so every figure is a ratio to what OpenCV takes to decode the same
JPEG(s) in the same run (median of ``--repeat`` runs each). On a shared machine the load
changes between the phases of the run, so the "paired" figures also time a decode just
before each run of a step and give the median of those ratios; the "CPU" figures are
ratios of process CPU time with OpenCV on one thread (what the work costs, whatever else
the machine runs; with two or more threads the wall-clock times are lower). Goals:
``measure`` on a 12 MP photo <= 4x the decode of that JPEG; ``compare`` on a 12 MP pair
<= 8x the decode of both; peak memory of a process that loads and measures a 12 MP photo <= 1 GB.

The run fixes how glibc hands out large buffers (it re-executes itself with
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set; ``--allocator default``
keeps the process as started). Left alone, a 12 MP image's 36 MB buffer is either mapped
afresh, with a page fault per 4 kB (decode 0.053 s on the 2-core box), or carved from
heap the process freed before (0.035 s), depending on what ran earlier in the process;
the regime drifted between and within runs and moved the close-up ratio between 4.1 and
5.1 with the same code. Fixed here: large buffers reuse the heap, as in a long batch, for
the decode and the stages alike (it gives the close-up the higher of the two ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hairtrack import synth  # noqa: E402
from hairtrack.compare import compare  # noqa: E402
from hairtrack.load import load_image  # noqa: E402
from hairtrack.measure import measure  # noqa: E402

# Peak resident memory of a fresh process. Not ru_maxrss: Linux carries it across
# fork + exec, so a child would report this (large) parent's peak. VmHWM belongs to the
# new address space.
PEAK = """
import sys, warnings
warnings.simplefilter("ignore")
from hairtrack.load import load_image
from hairtrack.measure import measure
m = measure(load_image(sys.argv[1]).rgb, view=sys.argv[2])
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0]
print(int(hwm.split()[1]) / 1024)
"""


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _paired_ratio(fn, ref, repeat: int) -> float:
    """Median over ``repeat`` runs of the time of ``fn`` over that of ``ref`` run just before."""
    ratios = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ref()
        t1 = time.perf_counter()
        fn()
        ratios.append((time.perf_counter() - t1) / (t1 - t0))
    return float(np.median(ratios))


def _cpu_ratio(fn, ref, repeat: int) -> float:
    """Median over ``repeat`` runs of the CPU time of ``fn`` over that of ``ref`` run just
    before, with OpenCV on one thread (the process's CPU time then counts one thread)."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        ratios = []
        for _ in range(repeat):
            t0 = time.process_time()
            ref()
            t1 = time.process_time()
            fn()
            ratios.append((time.process_time() - t1) / max(t1 - t0, 1e-9))
    finally:
        cv2.setNumThreads(threads)
    return float(np.median(ratios))


#: glibc's tunables for one allocation regime: large buffers come from the heap and
#: freed memory is kept for reuse (see the module's docstring)
ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "2000000000", "MALLOC_TRIM_THRESHOLD_": "4000000000"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--allocator",
        choices=["fixed", "default"],
        default="fixed",
        help="fixed (default): re-run under one glibc allocation regime; default: as started",
    )
    ap.add_argument(
        "--phantoms",
        help="keep the 12 MP phantoms (seed 0) in DIR and reuse them when already there "
        "(rendering them takes 1.5 min on the 2-core box); by default a temporary folder",
    )
    args = ap.parse_args()
    if args.allocator == "fixed" and any(os.environ.get(k) != v for k, v in ALLOCATOR.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ALLOCATOR})
    with tempfile.TemporaryDirectory() as tmp:
        if args.phantoms:
            tmp = args.phantoms
        t0 = time.perf_counter()
        done = all(
            (Path(tmp) / v / f"{n}.jpg").exists()
            for v in ("visit-1", "visit-2")
            for n in ("closeup", "crown")
        )
        if not done:
            synth.synth(tmp, preset="large", seed=0)
            print(f"made the 12 MP phantoms in {time.perf_counter() - t0:.1f} s")
        rows = {}
        for view, name in (("closeup", "closeup"), ("global", "crown")):
            b = Path(tmp) / "visit-1" / f"{name}.jpg"
            a = Path(tmp) / "visit-2" / f"{name}.jpg"
            rgb_b, rgb_a = load_image(b).rgb, load_image(a).rgb
            dec1 = _median_time(lambda b=b: cv2.imread(str(b)), args.repeat)
            dec2 = _median_time(
                lambda a=a, b=b: (cv2.imread(str(a)), cv2.imread(str(b))), args.repeat
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_m = _median_time(lambda r=rgb_b, v=view: measure(r, view=v), args.repeat)
                t_ml = _median_time(
                    lambda b=b, v=view: measure(load_image(b).rgb, view=v), args.repeat
                )
                t_c = _median_time(
                    lambda r=rgb_b, s=rgb_a, v=view: compare(r, s, view=v), args.repeat
                )
                p_m = _paired_ratio(
                    lambda r=rgb_b, v=view: measure(r, view=v),
                    lambda b=b: cv2.imread(str(b)),
                    args.repeat,
                )
                p_c = _paired_ratio(
                    lambda r=rgb_b, s=rgb_a, v=view: compare(r, s, view=v),
                    lambda a=a, b=b: (cv2.imread(str(a)), cv2.imread(str(b))),
                    args.repeat,
                )
                c_m = _cpu_ratio(
                    lambda r=rgb_b, v=view: measure(r, view=v),
                    lambda b=b: cv2.imread(str(b)),
                    args.repeat,
                )
                c_c = _cpu_ratio(
                    lambda r=rgb_b, s=rgb_a, v=view: compare(r, s, view=v),
                    lambda a=a, b=b: (cv2.imread(str(a)), cv2.imread(str(b))),
                    args.repeat,
                )
            out = subprocess.run(
                [sys.executable, "-c", PEAK, str(b), view],
                capture_output=True,
                text=True,
                check=True,
            )
            peak_mb = float(out.stdout.strip().splitlines()[-1])
            mp = rgb_b.shape[0] * rgb_b.shape[1] / 1e6
            rows[view] = {
                "megapixels": round(mp, 1),
                "decode_s": round(dec1, 3),
                "measure_s": round(t_m, 3),
                "measure / decode (goal <= 4)": round(t_m / dec1, 2),
                "load+measure / decode": round(t_ml / dec1, 2),
                "compare_s": round(t_c, 3),
                "compare / decode both (goal <= 8)": round(t_c / dec2, 2),
                "measure / decode, paired": round(p_m, 2),
                "compare / decode both, paired": round(p_c, 2),
                "measure / decode, CPU": round(c_m, 2),
                "compare / decode both, CPU": round(c_c, 2),
                "peak memory load+measure, MB (goal <= 1024)": round(peak_mb),
            }
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
