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


#: Every host name fails at once: no waiting on DNS for background tiles.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND"


def _chromium(
    html: str | Path,
    action: str,
    *,
    width: int,
    height: int,
    wait_ms: int,
    fragment: str,
    offline: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="hubopt-chromium-") as profile:
        return subprocess.run(
            [
                exe,
                *FLAGS,
                *([OFFLINE] if offline else []),
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--virtual-time-budget={wait_ms}",
                action,
                Path(html).resolve().as_uri() + fragment,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def screenshot(
    html: str | Path,
    png: str | Path,
    *,
    width: int = 1400,
    height: int = 900,
    wait_ms: int = 5000,
    fragment: str = "",
    offline: bool = False,
) -> Path:
    """Load ``html`` in headless Chromium and save a ``width`` x ``height`` screenshot.

    ``fragment`` is appended to the file URL, e.g. ``"#current"`` opens a hubopt map on
    today's groups. ``offline`` makes every network request fail at once (no street-map
    tiles, and no wait for them on a closed network).
    """
    png = Path(png).resolve()
    _chromium(
        html,
        f"--screenshot={png}",
        width=width,
        height=height,
        wait_ms=wait_ms,
        fragment=fragment,
        offline=offline,
    )
    return png


def rendered_dom(
    html: str | Path,
    *,
    width: int = 1400,
    height: int = 900,
    wait_ms: int = 4000,
    offline: bool = True,
) -> str:
    """The page's DOM after its scripts ran (``--dump-dom``): what the browser built."""
    done = _chromium(
        html,
        "--dump-dom",
        width=width,
        height=height,
        wait_ms=wait_ms,
        fragment="",
        offline=offline,
    )
    return done.stdout.decode("utf-8", errors="replace")
