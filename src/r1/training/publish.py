"""Pushing a finished model folder to the Hub with a model card of the params it was trained with.

The Trainer's own `push_to_hub` pushes its output_dir on every save, which here is the
checkpoints folder; the stage instead pushes the final, saved model once training succeeded,
with the resolved params in the card, so the Hub repo says exactly how the weights were made.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from r1.config import to_dict

log = logging.getLogger(__name__)


def model_card(stage: str, resolved: dict, base_model: str | None) -> str:
    header = {"library_name": "transformers", "tags": ["r1-pipeline", stage, "trl"]}
    if base_model:
        header["base_model"] = base_model
    params = yaml.safe_dump(to_dict(resolved), sort_keys=True, allow_unicode=True)
    return (f"---\n{yaml.safe_dump(header, sort_keys=True)}---\n\n"
            f"# {stage} model from r1-pipeline\n\n"
            f"Trained by the `{stage}` stage of r1-pipeline (TRL) with these params:\n\n"
            f"```yaml\n{params}```\n")


def push(folder: str | Path, *, repo_id: str, revision: str | None, private: bool | None, card: str, api=None) -> str:
    """Create ``repo_id`` if needed, upload ``folder`` and the card as README.md; the commit URL."""
    from huggingface_hub import HfApi

    api = api or HfApi()
    api.create_repo(repo_id, private=private, exist_ok=True)
    if revision:
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=repo_id, revision=revision,
                    commit_message="Model card: the params r1-pipeline trained with")
    commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id, revision=revision,
                               commit_message="Upload the model trained by r1-pipeline")
    log.info("pushed %s to %s", folder, repo_id)
    return str(getattr(commit, "commit_url", commit))
