"""The command line: help, exit codes, one-line errors, and the bundled samples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clihelp import run_cli
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_images"
# The command that remakes sample_images/, as the README documents it.
SAMPLE_COMMAND = ["synth", "sample_images", "--preset", "sample", "--seed", "0"]


def test_help_reads_well():
    r = run_cli("--help")
    assert r.returncode == 0
    assert "hair" in r.stdout and "synth" in r.stdout and "exit codes" in r.stdout
    for cmd in ("synth",):
        r = run_cli(cmd, "--help")
        assert r.returncode == 0, r.stderr
        assert cmd in r.stdout and "usage" in r.stdout


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "hairtrack"
    if not script.exists():
        pytest.skip("hairtrack not installed as a console script in this environment")
    r = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("hairtrack ")


def test_no_command_and_bad_usage_exit_2_without_traceback():
    r = run_cli()
    assert r.returncode == 2
    r = run_cli("synth")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("hairtrack: error:")
    r = run_cli("synth", "x", "--preset", "nope")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_readme_documents_the_sample_command():
    readme = (REPO / "README.md").read_text()
    assert "hairtrack " + " ".join(SAMPLE_COMMAND) in readme


def test_sample_images_are_remade_by_the_documented_command(tmp_path):
    """The bundled samples are what the documented command writes.

    Exact bytes are checked for the truth JSON; photos and masks are compared decoded, so
    that a newer JPEG or PNG encoder does not fail the check while a changed phantom does.
    """
    if not SAMPLES.is_dir():
        pytest.skip("sample_images/ is not in this checkout")
    r = run_cli(*SAMPLE_COMMAND, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    made = tmp_path / "sample_images"
    want = sorted(p.relative_to(SAMPLES) for p in SAMPLES.rglob("*") if p.is_file())
    got = sorted(p.relative_to(made) for p in made.rglob("*") if p.is_file())
    assert got == want
    patients = {p.parts[0] for p in want}
    assert len(patients) == 3
    for rel in want:
        a, b = SAMPLES / rel, made / rel
        if rel.suffix == ".json":
            assert json.loads(a.read_text()) == json.loads(b.read_text()), rel
        else:
            x = np.asarray(Image.open(a)).astype(int)
            y = np.asarray(Image.open(b)).astype(int)
            assert x.shape == y.shape, rel
            assert np.abs(x - y).mean() < 0.5, rel


def test_sample_set_is_small_and_follows_the_folder_conventions():
    if not SAMPLES.is_dir():
        pytest.skip("sample_images/ is not in this checkout")
    size = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert size < 20e6
    truths = [json.loads(p.read_text()) for p in SAMPLES.rglob(".truth/*.json")]
    trends = {t["patient"]: t["trend"] for t in truths}
    assert sorted(trends.values()) == ["declining", "improving", "stable"]
    for patient in trends:
        sessions = {t["date"] for t in truths if t["patient"] == patient}
        assert 4 <= len(sessions) <= 6
        views = {t["view"] for t in truths if t["patient"] == patient}
        assert views == {"closeup", "crown"}
    # the true hair change follows the trend
    for t in truths:
        change = t["true_hair_change"]
        assert {"improving": change >= 0, "stable": change == 0, "declining": change <= 0}[
            t["trend"]
        ]


def test_output_cut_short_by_a_closed_pipe_is_not_an_error():
    """``hairtrack measure ... | head``: the reader may stop reading; the command must not
    print an error (nor a traceback) for that, and exits 0."""
    photo = SAMPLES / "ben-stable" / "2026-01-12_closeup.jpg"
    if not photo.exists():
        pytest.skip("sample_images/ is not in this checkout")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hairtrack", "measure", str(photo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # no reader left: the command's first write meets a broken pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert err == ""


def test_a_refused_alignment_is_said_once_on_stdout_and_with_debug_its_steps():
    """Two different patients' close-ups: the comparison says it could not register them
    (on stdout, with the reason); stderr stays empty (no log line repeating it), and
    ``--debug`` shows the alignment's own steps there."""
    a = SAMPLES / "ben-stable" / "2026-01-12_closeup.jpg"
    b = SAMPLES / "carla-declining" / "20260514" / "closeup.jpg"
    if not (a.exists() and b.exists()):
        pytest.skip("sample_images/ is not in this checkout")
    r = run_cli("compare", str(a), str(b))
    assert r.returncode == 0, r.stderr
    assert "verdict         unreliable" in r.stdout and "not registered: " in r.stdout
    assert r.stderr == ""
    r = run_cli("compare", "--debug", str(a), str(b))
    assert "alignment refused: " in r.stderr
