"""The training curves drawn on a machine without network, in a real headless browser.

A small DVC project holds the repository's committed plots/*.csv and its dvc.yaml's top-level
`plots:`. Chromium opens pages with every host name unresolvable (`--host-resolver-rules`),
as on an offline GPU node, and dumps the DOM after the page's scripts ran. The charts drew
when each plot's div holds Vega's SVG with its line marks; DVC's default page, whose
libraries come from a CDN, shows the same check failing: that page is the defect.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from pipeline_helpers import ROOT, dvc, dvc_bin, git

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plots_project")
    top_level = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
    (path / "dvc.yaml").write_text(yaml.safe_dump({"plots": top_level}, sort_keys=False))
    shutil.copytree(ROOT / "plots", path / "plots")
    git(path, "init", "-q")
    dvc(path, "init", "-q")
    return path


@pytest.fixture(scope="module")
def plot_ids(project) -> list[str]:
    return [next(iter(entry)) for entry in yaml.safe_load((project / "dvc.yaml").read_text())["plots"]]


@pytest.fixture(scope="module")
def drawn(project) -> subprocess.CompletedProcess:
    """`python -m r1.plots` as scripts/repro.sh runs it, with DVC on PATH."""
    environ = {**os.environ, "PATH": f"{Path(dvc_bin()).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, "-m", "r1.plots"], cwd=project, env=environ,
                          capture_output=True, text=True, timeout=600)


class PlotMarks(HTMLParser):
    """For each element with one of `ids`: the line-mark paths Vega drew inside it."""

    UNCLOSED = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr", "path"}

    def __init__(self, ids):
        super().__init__()
        self.ids, self.stack, self.lines = set(ids), [], {i: [] for i in ids}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        owners = [i for i in self.stack if i]
        if tag == "path" and attrs.get("aria-roledescription") == "line mark" and owners and attrs.get("d"):
            self.lines[owners[-1]].append(attrs["d"])
        if tag in self.UNCLOSED:  # HTML's void elements, and a path holds nothing we track
            return
        self.stack.append(attrs.get("id") if attrs.get("id") in self.ids else None)

    def handle_endtag(self, tag):
        if tag not in self.UNCLOSED and self.stack:
            self.stack.pop()


def lines_drawn_offline(page: Path, ids: list[str], tmp_path: Path) -> dict[str, list[str]]:
    if not CHROMIUM:
        pytest.skip("chromium is not installed (scripts/test.sh installs it as root; or apt-get install chromium)")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
         "--host-resolver-rules=MAP * ~NOTFOUND",  # no host resolves: the machine is offline
         # Chromium's own background traffic (updates, sync) is noise on a closed network
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=20000", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "</html>" in done.stdout, done.stderr[-2000:]
    parser = PlotMarks(ids)
    parser.feed(done.stdout)
    return parser.lines


def test_offline_page_draws_every_curve_in_a_browser_without_network(project, plot_ids, drawn, tmp_path):
    assert drawn.returncode == 0, drawn.stderr
    lines = lines_drawn_offline(project / "dvc_plots" / "index.html", plot_ids, tmp_path)
    for plot_id in plot_ids:
        assert lines[plot_id], f"{plot_id}: no line drawn"
        # DVC draws each series raw and smoothed; a line through the steps has many vertices.
        assert max(d.count("L") for d in lines[plot_id]) >= 3, (plot_id, lines[plot_id])


def test_dvcs_default_cdn_page_draws_nothing_offline(project, plot_ids, tmp_path):
    dvc(project, "plots", "show", "-o", "cdn_page", *plot_ids)
    page = project / "cdn_page" / "index.html"
    assert "cdn.jsdelivr.net" in page.read_text()
    lines = lines_drawn_offline(page, plot_ids, tmp_path)
    assert lines == {plot_id: [] for plot_id in plot_ids}


def test_svg_files_show_each_curve_without_a_browser(project, plot_ids, drawn):
    assert drawn.returncode == 0, drawn.stderr
    svgs = sorted((project / "reports" / "plots").iterdir())
    assert [p.name for p in svgs] == sorted(f"{plot_id}.svg" for plot_id in plot_ids)
    for svg in svgs:
        text = svg.read_text()
        assert f">{svg.stem}</text>" in text and ">step</text>" in text  # title and x axis
        assert 'aria-roledescription="line mark"' in text


def test_an_sft_only_project_draws_the_sft_curves_and_names_the_missing_ones(project, tmp_path):
    sft_only = tmp_path / "sft_only"
    shutil.copytree(project, sft_only, ignore=shutil.ignore_patterns("dvc_plots", "reports", "cdn_page"))
    (sft_only / "plots" / "grpo.csv").unlink()
    environ = {**os.environ, "PATH": f"{Path(dvc_bin()).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "r1.plots"], cwd=sft_only, env=environ,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (sft_only / "reports" / "plots").iterdir()) == ["sft_learning_rate.svg", "sft_loss.svg"]
    assert "plot 'grpo_rewards' has no data" in done.stderr and "plots/grpo.csv" in done.stderr
