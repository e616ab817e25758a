"""Where ``compare``'s CPU goes on a 12 MP pair: process CPU seconds of each stage.

Run:  .venv/bin/python benchmarks/compare_stages.py [--seed N] [--view closeup|global]
                                                    [--repeat N] [--cache DIR]

The pair is ``synth.synth(..., preset="large")``'s (``speed.py`` times seed 0), written
once into ``--cache`` and read from there after (as ``large_align.py``). ``compare`` runs
with OpenCV on one thread (so that the process's CPU time counts one thread and the
stages add up) under ``speed.py``'s glibc allocation regime (the process re-executes
itself with it), once to warm up and then ``--repeat`` times; each stage's CPU is summed
over its calls within a run, and the median over the runs is printed, largest first,
with the decode of both JPEGs for scale. Stages nest (``features`` holds ``_prepare``,
which holds ``_suppress_hair``), so the column does not add up to the total.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import os
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hairtrack import synth  # noqa: E402
from hairtrack.compare import compare  # noqa: E402
from hairtrack.load import load_image  # noqa: E402

#: glibc's tunables of speed.py's run (large buffers from the heap, kept for reuse)
ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "2000000000", "MALLOC_TRIM_THRESHOLD_": "4000000000"}

#: the stages timed: module, function (wrapped where compare's modules look them up)
STAGES = (
    ("hairtrack.compare", "analyse"),
    ("hairtrack.compare", "summarise"),
    ("hairtrack.compare", "features"),
    ("hairtrack.align", "_prepare"),
    ("hairtrack.align", "_suppress_hair"),
    ("hairtrack.align", "_detect"),
    ("hairtrack.align", "_coarse_features"),
    ("hairtrack.compare", "align"),
    ("hairtrack.align", "_dense_matches"),
    ("hairtrack.align", "_correlation"),
    ("hairtrack.align", "_head_skin_check"),
    ("hairtrack.compare", "match_photometry"),
    ("hairtrack.compare", "_edge_blur_px"),
    ("hairtrack.compare", "jpeg_quality"),
    ("hairtrack.compare", "photometry_copy"),
    ("hairtrack.compare", "global_copy"),
    ("hairtrack.compare", "_closeup_field"),
    ("hairtrack.compare", "_where_to_look"),
    ("hairtrack.compare", "_common_region"),
    ("hairtrack.compare", "_blocks"),
    ("hairtrack.compare", "_bootstrap_se_cov"),
)


def _wrap(spent: dict[str, float]) -> None:
    """Wrap every stage so that its CPU time adds up in ``spent``."""
    for mod_name, fn_name in STAGES:
        mod = importlib.import_module(mod_name)
        fn = getattr(mod, fn_name)

        def timed(*args, _fn=fn, _key=fn_name, **kwargs):
            t0 = time.process_time()
            try:
                return _fn(*args, **kwargs)
            finally:
                spent[_key] += time.process_time() - t0

        setattr(mod, fn_name, timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--view", choices=["closeup", "global"], default="closeup")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/hairtrack-large"))
    args = ap.parse_args()
    if any(os.environ.get(k) != v for k, v in ALLOCATOR.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ALLOCATOR})
    warnings.simplefilter("ignore")
    root = args.cache / f"seed{args.seed}"
    if not (root / "visit-2" / ".truth" / "closeup.json").exists():
        synth.synth(root, preset="large", seed=args.seed)
    name = "closeup" if args.view == "closeup" else "crown"
    paths = [root / "visit-1" / f"{name}.jpg", root / "visit-2" / f"{name}.jpg"]
    before, after = (load_image(p).rgb for p in paths)
    cv2.setNumThreads(1)
    spent: dict[str, float] = collections.defaultdict(float)
    _wrap(spent)
    compare(before, after, view=args.view)  # warm-up
    runs, totals, decodes = collections.defaultdict(list), [], []
    for _ in range(args.repeat):
        t0 = time.process_time()
        for p in paths:
            cv2.imread(str(p))
        decodes.append(time.process_time() - t0)
        spent.clear()
        t0 = time.process_time()
        compare(before, after, view=args.view)
        totals.append(time.process_time() - t0)
        for _, fn_name in STAGES:
            runs[fn_name].append(spent[fn_name])
    dec = float(np.median(decodes))
    total = float(np.median(totals))
    print(
        f"{args.view} pair, seed {args.seed}, {before.shape[1]} x {before.shape[0]} px: compare "
        f"CPU {total:.3f} s = {total / dec:.1f} x the decode of both ({dec:.3f} s), "
        f"median of {args.repeat}"
    )
    for fn_name, v in sorted(runs.items(), key=lambda kv: -float(np.median(kv[1]))):
        med = float(np.median(v))
        if med > 0:
            print(f"  {fn_name:<20}{1000 * med:8.1f} ms  {100 * med / total:5.1f} %")


if __name__ == "__main__":
    main()
