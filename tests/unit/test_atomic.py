"""Outputs appear whole or not at all."""

import pytest

from r1.atomic import atomic_dir, write_json_atomic


def test_atomic_dir_replaces_only_on_success(tmp_path):
    final = tmp_path / "out"
    with atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("one")
    assert (final / "a.txt").read_text() == "one"
    with pytest.raises(RuntimeError), atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("killed")
    assert (final / "a.txt").read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary left behind


def test_atomic_dir_swaps_a_previous_output(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    (final / "stale.txt").write_text("x")
    with atomic_dir(final) as tmp:
        (tmp / "new.txt").write_text("y")
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert oct(final.stat().st_mode & 0o777) == "0o755"


def test_json_is_stable(tmp_path):
    write_json_atomic(tmp_path / "m.json", {"b": 1, "a": 2})
    assert (tmp_path / "m.json").read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
