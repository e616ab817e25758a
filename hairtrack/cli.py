"""The ``hairtrack`` command line: an edge of the package (parses, calls the API, writes).

Exit codes (DESIGN.md): 0 done; 1 some inputs skipped, each named with its reason;
2 bad usage or nothing could be processed. Errors go to stderr in one line, never a
traceback, unless ``--debug``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from hairtrack import __version__
from hairtrack.errors import HairtrackError

log = logging.getLogger("hairtrack")

EXIT_OK, EXIT_SKIPPED, EXIT_FAILED = 0, 1, 2

DESCRIPTION = """\
Measure hair regrowth from scalp photos: is the hair coming back, by how much,
and how sure are we?

Close-ups (trichoscope, dermoscope) and global phone photos (crown, vertex, part,
hairline) both work. Nothing leaves this machine and input files are never changed."""

EPILOG = """\
examples:
  hairtrack synth phantoms --preset sample      write phantom patients with their truth
  hairtrack measure photo.jpg                   hair coverage (and count) of one photo
  hairtrack measure photo.jpg --json -o out     the same as JSON, with an overlay picture
  hairtrack compare before.jpg after.jpg        is the hair coming back? (with -o DIR: pictures)
  hairtrack report patients/ -o report          every patient: trends, HTML, CSV, JSON
  hairtrack <command> --help                    the options of one command

exit codes: 0 done, 1 some inputs skipped (each named), 2 bad usage or nothing done"""


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and a one-line message on bad usage."""

    def error(self, message: str) -> None:  # pragma: no cover - argparse plumbing
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILED, f"hairtrack: error: {message}\n")


def _cmd_synth(args: argparse.Namespace) -> int:
    from hairtrack import synth

    truths = synth.synth(args.out, preset=args.preset, seed=args.seed)
    log.info("wrote %d phantom photos with their truth to %s", len(truths), args.out)
    if args.json:
        print(
            json.dumps(
                {
                    "out": str(args.out),
                    "photos": len(truths),
                    "preset": args.preset,
                    "seed": args.seed,
                }
            )
        )
    return EXIT_OK


def _load_params(args: argparse.Namespace):
    from hairtrack.config import Params

    return Params.from_toml(args.config) if getattr(args, "config", None) else Params()


def _cmd_measure(args: argparse.Namespace) -> int:
    import warnings

    from hairtrack.files import write_json
    from hairtrack.load import load_image, save_png
    from hairtrack.measure import measure

    params = _load_params(args)
    img = load_image(args.image, **dataclasses.asdict(params.load))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notes are in the result's warnings
        m = measure(
            img.rgb,
            view=args.view,
            px_per_mm=args.px_per_mm,
            polarity=args.polarity,
            params=params,
            path=str(args.image),
        )
    result = m.to_dict()
    if args.mask_out:
        save_png(args.mask_out, m.hair_mask)
    if args.out:
        from hairtrack.plots import hair_overlay

        stem = Path(args.image).stem
        save_png(args.out / f"{stem}_overlay.png", hair_overlay(img.rgb, m))
        write_json(args.out / f"{stem}.json", result)
    if args.json:
        print(json.dumps(result))
    else:
        _print_measurement(result)
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:
    from hairtrack.compare import compare
    from hairtrack.files import write_atomic, write_json
    from hairtrack.load import load_image, save_png

    params = _load_params(args)
    before = load_image(args.before, **dataclasses.asdict(params.load))
    after = load_image(args.after, **dataclasses.asdict(params.load))
    c = compare(
        before.rgb,
        after.rgb,
        view=args.view,
        px_per_mm=args.px_per_mm,
        polarity=args.polarity,
        params=params,
        before_path=str(args.before),
        after_path=str(args.after),
    )
    result = c.to_dict()
    if args.out:
        from hairtrack import plots

        b, a = plots.aligned_pair(before.rgb, after.rgb, c)
        save_png(args.out / "pair.png", plots.side_by_side(b, a))
        save_png(args.out / "change_map.png", plots.change_map(before.rgb, c))
        write_atomic(args.out / "blink.gif", plots.blink_gif(b, a))
        write_json(args.out / "compare.json", result)
    if args.json:
        print(json.dumps(result))
    else:
        _print_comparison(result)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from hairtrack.report import NothingToReport, report

    if args.workers is not None and args.workers < 1:
        raise HairtrackError(f"--workers must be 1 or more, got {args.workers}")
    params = _load_params(args)
    progress = None
    if not args.quiet and sys.stderr.isatty():

        def progress(done: int, total: int, what: str) -> None:
            print(f"\r  {done}/{total} {what}   ", end="", file=sys.stderr, flush=True)

    try:
        r = report(
            args.patients_dir,
            args.out,
            params=params,
            workers=args.workers,
            anonymize=args.anonymize,
            progress=progress,
            cache=not args.no_cache,
        )
    except NothingToReport as exc:
        for s in exc.skipped:
            print(f"hairtrack: skipped {s.path}: {s.reason}", file=sys.stderr)
        raise
    finally:
        if progress is not None:
            print(file=sys.stderr)
    for s in r.skipped:
        print(f"hairtrack: skipped {s.path}: {s.reason}", file=sys.stderr)
    for n in r.notes:
        log.info("note: %s", n)
    log.info("wrote the report of %d patient(s) to %s", r.patients, r.out / "index.html")
    return EXIT_SKIPPED if r.skipped else EXIT_OK


def _print_comparison(r: dict) -> None:
    ch, al = r["change"], r["alignment"]
    ci = ch["coverage_pct_ci"]
    pct = "n/a" if ch["coverage_pct"] is None else f"{ch['coverage_pct']:+.1f} %"
    lines = [
        f"{r['before']['path']} -> {r['after']['path']} ({r['before']['view']}"
        + (")" if r["before"]["view_reason"] == "given" else f"; {r['before']['view_reason']})"),
        f"  verdict         {ch['verdict']}",
        f"  coverage        {100 * r['before']['coverage']:.1f} % -> "
        f"{100 * r['after']['coverage']:.1f} % ({ch['coverage_pp']:+.2f} pp, {pct}"
        + (f", 95 % interval {ci[0]:+.1f} to {ci[1]:+.1f} %)" if ci else ")"),
    ]
    if ch["hair_count_pct"] is not None:
        lines.append(
            f"  hair count      {r['before']['hair_count']} -> "
            f"{r['after']['hair_count']} ({ch['hair_count_pct']:+.1f} %)"
        )
    lines.append(
        f"  alignment       {'ok' if al['ok'] else 'not registered: ' + al['reason']}"
        + (f" ({al['inliers']} matches, {al['rmse_px']:.2f} px residual)" if al["ok"] else "")
    )
    lines += [f"  warning: {w}" for w in r["warnings"]]
    print("\n".join(lines))


def _print_measurement(r: dict) -> None:
    def fmt(v, spec=".1f", unit=""):
        return "n/a" if v is None else f"{v:{spec}}{unit}"

    lines = [
        f"{r['path']}: {r['view']} ({r['view_reason']})",
        f"  coverage        {100 * r['coverage']:.1f} % of {r['region_px']} region px",
    ]
    if r["view"] == "closeup":
        lines += [
            f"  hairs           {fmt(r['hair_count'], 'd')}"
            f"  ({fmt(r['hair_per_cm2'], '.0f')} per cm2)",
            f"  shaft width     {fmt(r['mean_width_px'])} px mean"
            f"  ({fmt(r['mean_width_um'], '.0f', ' um')})",
            f"  thin (<{r['thin_cutoff_um']:.0f} um) "
            f"{fmt(None if r['thin_share'] is None else 100 * r['thin_share'], '.0f', ' %')}",
            f"  scale           {fmt(r['px_per_mm'], '.1f', ' px/mm')}"
            f" ({r['scale_source'] or 'none'})",
        ]
    lines += [f"  warning: {w}" for w in r["warnings"]]
    print("\n".join(lines))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hairtrack`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser = _Parser(
        prog="hairtrack",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"hairtrack {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "synth",
        parents=[common],
        help="write phantom scalp photos with their ground truth",
        description="Write phantom scalp photos whose hair is known exactly, with the truth "
        "(hair mask, count, widths, scale, homography to the baseline) in a hidden .truth/ "
        "folder beside every photo.",
        epilog="presets: sample = three patient folders, five monthly sessions, a close-up "
        "and a crown each (improving, stable, declining), as bundled in sample_images/; "
        "gallery = every skin tone x hair colour; large = a 12 MP close-up and crown pair.",
    )
    p.add_argument("out", type=Path, help="output folder (created)")
    p.add_argument(
        "--preset",
        default="sample",
        choices=["sample", "gallery", "large"],
        help="what to write (default: sample)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed; the same seed writes the same bytes (default: 0)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary to stdout")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser(
        "measure",
        parents=[common],
        help="measure the hair in one photo",
        description="Measure the hair in one photo: coverage (share of the region that is "
        "hair) and, on close-ups, hair count, hairs per cm2, shaft width and the share of "
        "thin hairs.",
    )
    p.add_argument("image", type=Path, help="photo (JPEG, PNG, TIFF, WebP, HEIC)")
    p.add_argument(
        "--view",
        default="auto",
        choices=["auto", "closeup", "global"],
        help="kind of photo; auto decides and says which it chose (default)",
    )
    p.add_argument(
        "--px-per-mm",
        type=float,
        default=None,
        metavar="F",
        help="scale of a close-up; by default read from a burned-in 1 mm scale bar",
    )
    p.add_argument(
        "--polarity",
        default="auto",
        choices=["auto", "dark", "light"],
        help="hair darker or lighter than skin (close-ups; default: auto)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--mask-out",
        type=Path,
        metavar="PNG",
        help="write the hair mask: 8-bit PNG, 255 = hair, same size as the photo",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        metavar="DIR",
        help="write an overlay picture (hair tinted, hairs numbered) and the JSON",
    )
    p.add_argument("--config", type=Path, metavar="TOML", help="parameters to change")
    p.set_defaults(func=_cmd_measure)

    p = sub.add_parser(
        "compare",
        parents=[common],
        help="compare a session photo with the baseline photo",
        description="Compare AFTER (a session photo) with BEFORE (the baseline photo of the "
        "same view): align them on the scalp, measure both over the scalp they share, and "
        "say whether the hair changed: gain, loss, no detectable change, or unreliable "
        "(when the photos cannot be registered).",
    )
    p.add_argument("before", type=Path, help="baseline photo")
    p.add_argument("after", type=Path, help="session photo")
    p.add_argument(
        "--view",
        default="auto",
        choices=["auto", "closeup", "global"],
        help="kind of photo (default: auto, decided on BEFORE)",
    )
    p.add_argument(
        "--px-per-mm", type=float, default=None, metavar="F", help="scale of the BEFORE close-up"
    )
    p.add_argument(
        "--polarity",
        default="auto",
        choices=["auto", "dark", "light"],
        help="hair darker or lighter than skin (default: auto)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        metavar="DIR",
        help="write pictures: the aligned pair, a blink GIF and a change map",
    )
    p.add_argument("--config", type=Path, metavar="TOML", help="parameters to change")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser(
        "report",
        parents=[common],
        help="report every patient of a folder: series, trends, HTML, CSV, JSON",
        description="Measure every session of every patient in PATIENTS_DIR (one folder "
        "per patient, sessions dated by folder or file name or EXIF), compare each with "
        "the baseline and the session before, and write OUT/index.html (self-contained), "
        "OUT/summary.csv, OUT/summary.json, OUT/run.json and per patient pictures. The "
        "patients folder is only read.",
        epilog="summary.csv: one row per patient x view x session: patient, view, kind, "
        "session, date, coverage, coverage_change_pct, coverage_change_ci_low, "
        "coverage_change_ci_high, verdict, alignment_ok, hair_count, hair_per_cm2, "
        "previous_change_pct, previous_change_ci_low, previous_change_ci_high, "
        "previous_verdict, fields.",
    )
    p.add_argument("patients_dir", type=Path, help="folder of patient folders")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT", help="output folder")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes, each on one core (default: one per core, at most "
        "series.max_default_workers of the config)",
    )
    p.add_argument(
        "--anonymize",
        action="store_true",
        help="replace patient names by stable pseudonyms (patient-1a2b3c4d) in everything "
        "written; the key is $HAIRTRACK_ANONYMIZE_KEY or ~/.config/hairtrack/anonymize.key",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="recompute everything; by default results are kept in OUT/.cache, keyed by "
        "the photos' content and the parameters, and reused",
    )
    p.add_argument("--config", type=Path, metavar="TOML", help="parameters to change")
    p.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    if args.debug:
        # hairtrack's own step-by-step messages (e.g. why an alignment was refused)
        logging.getLogger("hairtrack").setLevel(logging.DEBUG)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_FAILED
    try:
        return func(args)
    except HairtrackError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"hairtrack: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("hairtrack: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader stopped reading (``| head``): the work is done, nothing to report;
        # stdout goes to devnull so that Python's flush at exit does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into one line
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"hairtrack: error: {type(exc).__name__}: {exc} (run with --debug for details)",
                file=sys.stderr,
            )
        return EXIT_FAILED
