"""Render an HTML map to PNG in headless Chromium (Debian's ``chromium``).

Used by the map test and ``scripts/screenshot_map.py`` so that maps are *looked at*,
not only read. Chromium is optional: :func:`find_chromium` returns None without it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(
    html: str | Path, png: str | Path, *, width: int = 1400, height: int = 900, wait_ms: int = 5000
) -> Path:
    """Load ``html`` in headless Chromium and save a ``width`` x ``height`` screenshot."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    png = Path(png).resolve()
    with tempfile.TemporaryDirectory(prefix="hubopt-chromium-") as profile:
        subprocess.run(
            [
                exe,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--virtual-time-budget={wait_ms}",
                f"--screenshot={png}",
                Path(html).resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return png
