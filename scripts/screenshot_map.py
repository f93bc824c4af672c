"""Screenshot an HTML map in headless Chromium.

    python scripts/screenshot_map.py MAP.html OUT.png [WIDTHxHEIGHT] [#current]

``#current`` opens a hubopt map on today's groups instead of the proposal.
"""

import sys

from hubopt.outputs.screenshot import screenshot

if __name__ == "__main__":
    html, png, *rest = sys.argv[1:]
    size = next((a for a in rest if "x" in a and not a.startswith("#")), "1400x900")
    fragment = next((a for a in rest if a.startswith("#")), "")
    width, height = (int(v) for v in size.split("x"))
    print(screenshot(html, png, width=width, height=height, fragment=fragment))
