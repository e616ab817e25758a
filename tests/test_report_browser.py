"""The HTML report in a real headless browser: it loads cleanly, every image renders.

Uses Debian's chromium (``.ci/run`` installs it) through Playwright; skips only where no
chromium can be had. ``HAIRTRACK_CHROMIUM`` may name another Chromium binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_images" / "carla-declining"
HOSTILE = "<b>Zoë O'Brien & co<\\b>"


def _chromium() -> str | None:
    for name in (os.environ.get("HAIRTRACK_CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    root = tmp_path_factory.mktemp("browser")
    patients = root / "patients"
    for session in ("20260112", "20260514"):
        dst = patients / HOSTILE / session
        dst.mkdir(parents=True)
        shutil.copy(SAMPLE / session / "closeup.jpg", dst / "closeup.jpg")
    out = root / "out"
    r = subprocess.run(
        [sys.executable, "-m", "hairtrack", "report", str(patients), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 768})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((out / "index.html").as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
            )
            text = page.inner_text("body")
            # an element made from the name's markup would hold the name's text
            bold = page.evaluate(
                "Array.from(document.querySelectorAll('b')).filter("
                "b => b.textContent.includes('Zoë')).length"
            )
            shot = page.screenshot(full_page=True)
        finally:
            browser.close()
    return {"errors": errors, "images": images, "text": text, "bold": bold, "shot": shot}


def test_report_loads_without_console_errors(report_page):
    assert report_page["errors"] == []


def test_every_image_renders(report_page):
    images = report_page["images"]
    assert len(images) >= 3  # cohort overview, chart, aligned pair, change map
    assert all(done and width > 0 for done, width in images), images


def test_screenshot_is_not_blank(report_page):
    import cv2

    shot = cv2.imdecode(np.frombuffer(report_page["shot"], np.uint8), cv2.IMREAD_GRAYSCALE)
    assert shot is not None and shot.shape[0] > 500
    assert float(shot.std()) > 20  # text, charts and photos, not an empty page


def test_hostile_name_shows_as_text(report_page):
    assert HOSTILE in report_page["text"]
    assert report_page["bold"] == 0  # the name's <b> was never parsed as markup
