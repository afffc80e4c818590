"""r1.plots without DVC or a browser: DVC's JSON in, SVG files and an offline page template out.

The fixture is DVC 3.67.1's own output, `dvc plots show --json a_loss b_loss`, for a dvc.yaml
whose plot `a_loss` draws `loss` over `step` from a 4-row CSV (2.5, 1.5, 1.0, 0.75) and whose
plot `b_loss` names a CSV that does not exist. So the SVG is drawn from DVC's real spec (its
loess layer, slider and hover rule included), not from a spec written for the test.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from r1 import plots

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "plots" / "dvc_plots_show.json"
LOSSES = [2.5, 1.5, 1.0, 0.75]


@pytest.fixture(scope="module")
def shown() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def loss_svg(shown) -> str:
    return plots.render_svg(plots.vega_specs(shown)["a_loss"])


def line_points(svg: str) -> list[list[tuple[float, float]]]:
    """The vertices of each line mark Vega drew (its SVG path `d="Mx,yLx,y..."`)."""
    paths = re.findall(r'aria-roledescription="line mark" d="([^"]+)"', svg)
    return [[tuple(map(float, xy.split(","))) for xy in re.split(r"[ML]", d) if xy] for d in paths]


def test_svg_has_the_plot_title_and_dvcs_axis_titles(loss_svg):
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", loss_svg)
    assert loss_svg.startswith("<svg")
    assert {"a_loss", "step", "loss"} <= set(texts), texts


def test_svg_draws_every_data_point_in_order(loss_svg):
    lines = line_points(loss_svg)
    # DVC draws the raw series (faint) and a smoothed one: both go through the 4 steps.
    assert lines and all(len(points) == len(LOSSES) for points in lines), lines
    raw = lines[-1]
    xs, ys = [x for x, _ in raw], [y for _, y in raw]
    assert xs == sorted(xs) and len(set(xs)) == len(LOSSES)  # steps left to right
    # A falling loss goes down the picture (SVG y grows downwards), by the data's proportions.
    gaps = [b - a for a, b in zip(ys, ys[1:], strict=False)]
    assert all(gap > 0 for gap in gaps)
    assert gaps[0] / gaps[1] == pytest.approx((2.5 - 1.5) / (1.5 - 1.0), rel=1e-3)


def test_a_plot_without_data_is_left_out_with_dvcs_reason(shown, caplog):
    with caplog.at_level(logging.WARNING, logger="r1.plots"):
        specs = plots.vega_specs(shown)
    assert list(specs) == ["a_loss"]
    assert "b_loss" in caplog.text and "b.csv" in caplog.text and "No such file" in caplog.text


def test_image_plots_have_no_vega_spec_and_are_left_out():
    shown = {"data": {"confusion.png": [{"type": "image", "revisions": ["workspace"], "url": "x.png"}]}}
    assert plots.vega_specs(shown) == {}


def test_svg_folder_holds_exactly_the_plots_drawn_now(shown, tmp_path):
    svg_dir = tmp_path / "reports" / "plots"
    svg_dir.mkdir(parents=True)
    (svg_dir / "grpo_rewards.svg").write_text("<svg>an earlier recipe's curve</svg>")
    written = plots.write_svgs(plots.vega_specs(shown), svg_dir)
    assert written == [svg_dir / "a_loss.svg"]
    assert sorted(p.name for p in svg_dir.iterdir()) == ["a_loss.svg"]


def test_a_failed_drawing_leaves_the_previous_pictures_whole(shown, tmp_path, monkeypatch):
    svg_dir = tmp_path / "plots"
    svg_dir.mkdir()
    (svg_dir / "a_loss.svg").write_text("<svg>previous</svg>")
    specs = {**plots.vega_specs(shown), "second": {}}

    def render(spec):
        if not spec:
            raise ValueError("vega-lite refused the spec")
        return "<svg>new</svg>"

    monkeypatch.setattr(plots, "render_svg", render)
    with pytest.raises(ValueError):
        plots.write_svgs(specs, svg_dir)
    assert [p.name for p in tmp_path.iterdir()] == ["plots"]  # no temporary folder left
    assert (svg_dir / "a_loss.svg").read_text() == "<svg>previous</svg>"


def test_svg_names_are_plain_file_names():
    assert plots.svg_name("sft_loss") == "sft_loss.svg"
    assert plots.svg_name("dvc.yaml::plots/sft.csv") == "dvc.yaml_plots_sft.csv.svg"


def test_top_level_plot_ids_are_dvc_yamls_own(tmp_path):
    (tmp_path / "dvc.yaml").write_text(
        "stages: {}\nplots:\n  - sft_loss:\n      x: step\n      y: {plots/sft.csv: loss}\n  - plots/grpo.csv\n"
    )
    assert plots.top_level_plot_ids(tmp_path / "dvc.yaml") == ["sft_loss", "plots/grpo.csv"]


def test_page_template_inlines_the_libraries_and_leaves_out_dvcs_cdn_scripts():
    page = plots.html_template()
    assert page.count("{plot_divs}") == 1  # DVC refuses a template without it
    assert "{scripts}" not in page  # where DVC would put its CDN <script src=...> tags
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert "window.vegaEmbed" in page
    # the library runs before DVC's plot divs call vegaEmbed
    assert page.index("window.vegaEmbed") < page.index("{plot_divs}")


def test_without_dvc_on_path_the_command_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert plots.main(["sft_loss"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("r1.plots: `dvc` is not on PATH") and "scripts/env.sh" in err
    assert "\n" not in err


def test_without_dvc_yaml_the_command_names_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert plots.main([]) == 1
    assert "dvc.yaml: not found" in capsys.readouterr().err
