"""Broken local data files are a DataError naming the file and where it breaks (issue #5)."""

import json

import pandas as pd
import pytest

from r1.data import DataError, load

ROWS = [{"problem": f"p{i}", "solution": str(i)} for i in range(50)]


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_truncated_parquet_names_the_file(tmp_path):
    whole = tmp_path / "whole.parquet"
    pd.DataFrame(ROWS).to_parquet(whole)
    cut = tmp_path / "train.parquet"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(DataError, match=r"train\.parquet: cannot read: .*magic bytes") as err:
        load(str(cut))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("broken_line", [1, 7, 50])
def test_jsonl_cut_off_mid_line_names_the_real_line(tmp_path, broken_line):
    lines = _jsonl(ROWS).splitlines(keepends=True)
    lines[broken_line - 1] = lines[broken_line - 1][:12] + "\n"
    path = tmp_path / "train.jsonl"
    path.write_text("".join(lines))
    with pytest.raises(DataError, match=rf"train\.jsonl: line {broken_line}, column \d+: invalid JSON"):
        load(str(path))


def test_jsonl_ending_mid_line_says_it_was_cut_off(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(_jsonl(ROWS[:3]) + "\n" + '{"problem": "p3", "sol')
    with pytest.raises(DataError, match=r"line 5, column \d+: invalid JSON: .*ends mid-line"):
        load(str(path))


def test_jsonl_row_that_is_not_an_object(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(_jsonl(ROWS[:2]) + "[1, 2]\n")
    with pytest.raises(DataError, match="line 3: expected a JSON object, got list"):
        load(str(path))


def test_json_array_cut_off_names_its_line(tmp_path):
    path = tmp_path / "train.json"
    path.write_text("[\n" + ",\n".join(json.dumps(r) for r in ROWS)[:-30])
    with pytest.raises(DataError, match=r"train\.json: line 51, column \d+: invalid JSON"):
        load(str(path))


def test_json_array_and_lines_still_load(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(ROWS))
    (tmp_path / "b.jsonl").write_text(_jsonl(ROWS) + "\n\n")
    assert len(load(str(tmp_path / "a.json"))) == len(load(str(tmp_path / "b.jsonl"))) == 50
