"""The ``hairtrack`` command line: an edge of the package (parses, calls the API, writes).

Exit codes (DESIGN.md): 0 done; 1 some inputs skipped, each named with its reason;
2 bad usage or nothing could be processed. Errors go to stderr in one line, never a
traceback, unless ``--debug``.
"""

from __future__ import annotations

import argparse
import json
import logging
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
  hairtrack measure photo.jpg --json            hair coverage (and count) of one photo
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
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into one line
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"hairtrack: error: {type(exc).__name__}: {exc} (run with --debug for details)",
                file=sys.stderr,
            )
        return EXIT_FAILED
