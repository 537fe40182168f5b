"""The demo report in headless Chromium: the answer on the first screen, no overflow, images.

The page's Content-Security-Policy forbids scripts, so geometry is measured on a copy without
the policy and with a small script that writes what it measured into the page title, read back
from Chromium's ``--dump-dom``. Skipped, saying why, when ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_HEADLESS

MEASURE = """<script>
window.addEventListener("load", () => {
  const box = document.getElementById("conclusion");
  const rect = box ? box.getBoundingClientRect() : null;
  const images = [...document.images];
  document.title = "MEASURE" + JSON.stringify({
    top: rect && rect.top, bottom: rect && rect.bottom,
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    images: images.length,
    loaded: images.filter((i) => i.complete && i.naturalWidth > 0).length,
  });
});
</script>"""

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"{CHROMIUM} is absent (Debian: apt-get install chromium); see docs/report_check.md",
)


def measure(report, width, tmp_path):
    """Open a measuring copy of ``report`` at ``width`` x 900 px; return what it measured."""
    page = report.read_text(encoding="utf-8")
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    copy = tmp_path / f"measure_{width}.html"
    copy.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    profile = tmp_path / f"profile_{width}"
    command = [
        *CHROMIUM_HEADLESS,
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},900",
        "--virtual-time-budget=10000",
        "--dump-dom",
        copy.resolve().as_uri(),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    found = re.search(r"<title>MEASURE(.*?)</title>", run.stdout, re.S)
    assert found, run.stderr[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.fixture(scope="module")
def demo_report(finished):
    return finished / "results" / "report.html"


def test_conclusion_on_the_first_screen_at_1400(demo_report, tmp_path):
    shown = measure(demo_report, 1400, tmp_path)
    assert shown["top"] is not None, "no element with id conclusion"
    assert 0 <= shown["top"] < shown["bottom"] <= 900, shown


def test_nothing_overflows_at_800(demo_report, tmp_path):
    shown = measure(demo_report, 800, tmp_path)
    assert shown["innerWidth"] == 800
    assert shown["scrollWidth"] <= shown["innerWidth"], shown


def test_every_image_loads(demo_report, tmp_path):
    shown = measure(demo_report, 1400, tmp_path)
    assert shown["images"] > 0 and shown["loaded"] == shown["images"], shown
