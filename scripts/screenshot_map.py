"""Screenshot an HTML map in headless Chromium: python scripts/screenshot_map.py MAP.html OUT.png"""

import sys

from hubopt.screenshot import screenshot

if __name__ == "__main__":
    print(screenshot(sys.argv[1], sys.argv[2]))
