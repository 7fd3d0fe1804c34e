"""Copy plotly.js from the plotly Python package into static/vendor/, ready for our CSP.

The page CSP allows no inline styles and no data: images. plotly.js itself honours that through
its own switch (an element ``#plotly.js-style-global.no-inline-styles`` on the page, which
templates/components/chart.html provides; static/css/compare.css has the few rules it needs).
Two things in the bundled map library (MapLibre, which our charts never use) do not: at load it
probes WebP support with a data: image, and it injects its stylesheet. Both are switched off
here in the copy, by pattern; if a future plotly no longer has them, nothing is changed and the
browser tests (tests/test_compare_browser.py) say whether anything new is blocked.

Usage: python scripts/vendor-plotly.py static/vendor/plotly.min.js
"""

from __future__ import annotations

import pathlib
import re
import sys

import plotly

PATCHES = (
    # MapLibre's WebP probe: an <img> whose src is a data: URI, made when the script loads.
    (re.compile(r'\.src="data:image/webp;base64,[A-Za-z0-9+/=]+"'), '.src=""'),
    # MapLibre's stylesheet: injected unless an element with this id exists.
    (
        re.compile(
            r'if\(!document\.getElementById\("[0-9a-f]{64}"\)\)'
            r'\{var (\w)=document\.createElement\("style"\)'
        ),
        r'if(!1){var \1=document.createElement("style")',
    ),
)


def main(target: str) -> None:
    source = pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    text = source.read_text(encoding="utf-8")
    for pattern, replacement in PATCHES:
        text, count = pattern.subn(replacement, text)
        print(f"vendor-plotly: {pattern.pattern[:40]}… replaced {count} time(s)")
    out = pathlib.Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"vendor-plotly: wrote {out} (plotly {plotly.__version__})")


if __name__ == "__main__":
    main(sys.argv[1])
