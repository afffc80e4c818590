"""Outputs appear whole or not at all."""

import os
import socket
import subprocess
import tempfile

import pytest

from r1.atomic import atomic_dir, scratch_dir, write_json_atomic


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


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _litter(parent, prefix):
    """What a SIGKILLed writer leaves, next to a live writer's and another host's entries."""
    host = socket.gethostname()
    names = {
        "dead": f"{prefix}{host}.{_dead_pid()}.abc123",
        "legacy": f"{prefix}k2j4h5",  # a name from before writers were tagged
        "live": f"{prefix}{host}.{os.getpid()}.def456",
        "other_host": f"{prefix}another-node.{_dead_pid()}.ghi789",
    }
    for name in names.values():
        (parent / name).mkdir()
        (parent / name / "partial.bin").write_bytes(b"x")
    return {key: parent / name for key, name in names.items()}


def test_a_killed_writers_temporaries_are_removed_by_the_next_writer(tmp_path):
    litter = _litter(tmp_path, ".out.tmp-")
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("one")
    assert not litter["dead"].exists() and not litter["legacy"].exists()
    assert litter["live"].exists(), "a running writer's temporary must survive"
    assert litter["other_host"].exists(), "another host's writer cannot be checked from here"
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"out", litter["live"].name, litter["other_host"].name}


def test_a_killed_runs_scratch_dir_is_removed_by_the_next_run(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    litter = _litter(tmp_path, "r1-eval-")
    with scratch_dir("r1-eval-") as scratch:
        assert scratch.parent == tmp_path and scratch.name.startswith("r1-eval-")
        (scratch / "x").write_text("y")
    assert not scratch.exists()
    assert {p.name for p in tmp_path.iterdir()} == {litter["live"].name, litter["other_host"].name}
