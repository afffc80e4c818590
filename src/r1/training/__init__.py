"""What the sft and grpo stages share: model loading, plots, checkpoints, final saving."""
