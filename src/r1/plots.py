"""The training curves, visible without network: DVC's own plots as SVG files and as a page.

    python -m r1.plots [TARGET ...] [--svg-dir reports/plots] [--html-dir dvc_plots]

`dvc plots show` writes a page that loads vega, vega-lite and vega-embed from a CDN, so on an
offline machine (this project's default; many GPU clusters) a browser shows a blank page. This
asks DVC for its own Vega-Lite specs with the data filled in (`dvc plots show --json`), so the
charts are exactly DVC's (no second copy of its templates), and draws them with vl-convert,
which ships Vega and a JavaScript engine in its wheel:
  - `<svg-dir>/<plot id>.svg` for each plot, readable without a browser (the README links them);
    the folder is rewritten whole, so it holds exactly the plots that have data now;
  - `<html-dir>/index.html`, DVC's own page through `--html-template`, with the libraries
    inlined from vl-convert's bundle; the template stays at `<html-dir>/offline_template.html`
    for `dvc plots diff REV --html-template ...`.
TARGETs are plot ids or files, as for `dvc plots show`; by default the ids in dvc.yaml's
top-level `plots:` (the curves the README names), not the raw per-stage CSV plots.

Why a script run by scripts/repro.sh after `dvc repro` and not a DVC stage: it runs DVC
itself (the separate uv tool, not in this environment), which inside `dvc repro` would nest
one DVC in another, and which plots exist depends on the recipe (an SFT-only one has no
GRPO curves). The pictures are a view of plots/*.csv, which DVC already tracks.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from r1.atomic import atomic_dir, write_text_atomic

log = logging.getLogger("r1.plots")  # not __main__ under `python -m`

# DVC 3's templates declare Vega-Lite 5 (`$schema` .../vega-lite/v5.json); 5.21 is the last 5.x
# vl-convert 1.x ships. The page and the SVGs use the same version, so they draw the same.
VL_VERSION = "5.21"
TEMPLATE_NAME = "offline_template.html"

# vl-convert's default snippet only puts vega, vegaLite and vegaEmbed on `window`. DVC's page
# calls `vegaEmbed('#id', spec)`, whose default renderer is a canvas; SVG keeps the charts
# sharp at any zoom and leaves the drawn marks in the DOM, where a headless browser can check
# them (tests/integration/test_plots_offline.py).
_SNIPPET = """
window.vega = vega;
window.vegaLite = vegaLite;
window.vegaEmbed = (el, spec, opts = {}) => vegaEmbed(el, spec, {renderer: "svg", ...opts});
"""

# DVC fills `{plot_divs}` (required) and `{scripts}` (its CDN <script> tags); leaving
# `{scripts}` out is what keeps the CDN out. The bundle must come before the plot divs,
# whose inline scripts call vegaEmbed as the page loads.
_PAGE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    <title>DVC Plot</title>
    <script>{bundle}</script>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


class PlotsError(RuntimeError):
    """A one-line reason why the plots could not be drawn."""


def html_template() -> str:
    """A `dvc plots show --html-template` page that needs no network: the libraries inline."""
    import vl_convert as vlc

    bundle = vlc.javascript_bundle(_SNIPPET, vl_version=VL_VERSION)
    # `</script` would end the inline script early, and DVC replaces its placeholders
    # anywhere in the template, the bundle included.
    for clash in ("</script", "{plot_divs}", "{scripts}", "{refresh_tag}"):
        if clash in bundle.lower():
            raise PlotsError(
                f"vl-convert's JavaScript bundle contains {clash!r}; it cannot be inlined"
            )
    head, tail = _PAGE.split("{bundle}")
    return head + bundle + tail


def top_level_plot_ids(dvc_yaml: Path) -> list[str]:
    """The ids of dvc.yaml's top-level `plots:` (a dict entry's key, or a file path)."""
    if not dvc_yaml.is_file():
        raise PlotsError(f"{dvc_yaml}: not found; run from the project root or name the plots")
    entries = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("plots") or []
    return [next(iter(entry)) if isinstance(entry, dict) else str(entry) for entry in entries]


def dvc_executable() -> str:
    found = shutil.which("dvc")
    if not found:
        raise PlotsError(
            "`dvc` is not on PATH: scripts/env.sh installs it as a uv tool "
            "(add `$(uv tool dir --bin)` to PATH)"
        )
    return found


def run_dvc(*args: str) -> str:
    done = subprocess.run([dvc_executable(), *args], capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise PlotsError(f"`dvc {' '.join(args)}` failed (exit {done.returncode}): {reason[0]}")
    return done.stdout


def vega_specs(shown: dict) -> dict[str, dict]:
    """{plot id: filled Vega-Lite spec} from `dvc plots show --json`'s output.

    A plot whose data is missing (e.g. no GRPO in this recipe) is logged with DVC's reason
    and left out; image plots have no Vega spec and are left out too.
    """
    for error in shown.get("errors", []):
        log.warning(
            "plot %r has no data: %s (%s)", error.get("name"), error.get("msg"), error.get("source")
        )
    return {
        plot_id: entry["content"]
        for plot_id, entries in shown.get("data", {}).items()
        for entry in entries
        if entry.get("type") == "vega" and entry.get("content")
    }


def svg_name(plot_id: str) -> str:
    """A file name for a plot id: a file-path id (`dvc.yaml::plots/x.csv`) loses its slashes."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", plot_id).strip("_.") + ".svg"


def render_svg(spec: dict) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)


def write_svgs(specs: dict[str, dict], svg_dir: Path) -> list[Path]:
    """Draw every spec into `svg_dir`, replacing the folder only once all are drawn."""
    names = [svg_name(plot_id) for plot_id in specs]
    if len(set(names)) != len(names):
        raise PlotsError(f"two plot ids map to one SVG file name: {sorted(specs)}")
    with atomic_dir(svg_dir) as tmp:
        for name, spec in zip(names, specs.values(), strict=True):
            (tmp / name).write_text(render_svg(spec), encoding="utf-8")
    return [svg_dir / name for name in names]


def write_html(targets: list[str], html_dir: Path) -> Path:
    """DVC's own `dvc plots show` page, from the offline template."""
    template = html_dir / TEMPLATE_NAME
    write_text_atomic(template, html_template())
    run_dvc("plots", "show", "--html-template", str(template), "-o", str(html_dir), *targets)
    return html_dir / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m r1.plots", description=__doc__.splitlines()[0])
    parser.add_argument(
        "targets", nargs="*", help="plot ids or files (default: dvc.yaml's top-level plots)"
    )
    parser.add_argument("--svg-dir", type=Path, default=Path("reports/plots"))
    parser.add_argument("--html-dir", type=Path, default=Path("dvc_plots"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        targets = args.targets or top_level_plot_ids(Path("dvc.yaml"))
        if not targets:
            raise PlotsError("dvc.yaml declares no top-level `plots:`; name the plots to draw")
        specs = vega_specs(json.loads(run_dvc("plots", "show", "--json", *targets)))
        svgs = write_svgs(specs, args.svg_dir)
        log.info("wrote %d SVG plots to %s/", len(svgs), args.svg_dir)
        if specs:  # with no data DVC writes no page
            log.info("offline page: %s", write_html(targets, args.html_dir))
    except PlotsError as error:
        print(f"r1.plots: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
