"""Training checkpoints: keyed by what they train, and no other run's left behind."""

from r1.training import checkpoints


def test_starting_a_run_removes_other_runs_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("R1_CHECKPOINTS", str(tmp_path))
    mine = checkpoints.checkpoint_dir("sft", "aaaa")
    stale = checkpoints.checkpoint_dir("sft", "bbbb")  # changed params, or a run-cache restore
    other_stage = checkpoints.checkpoint_dir("grpo", "bbbb")
    for path in (mine, stale, other_stage):
        (path / "checkpoint-10").mkdir(parents=True)
    assert checkpoints.clear_others(mine) == [stale]
    assert (mine / "checkpoint-10").is_dir() and not stale.exists()
    assert (other_stage / "checkpoint-10").is_dir()


def test_clearing_without_any_checkpoint_is_a_no_op(tmp_path, monkeypatch):
    monkeypatch.setenv("R1_CHECKPOINTS", str(tmp_path))
    assert checkpoints.clear_others(checkpoints.checkpoint_dir("sft", "aaaa")) == []
