"""A lighteval pipeline that knows only the tasks it is given.

lighteval 0.13's `Pipeline` always builds a `Registry`, whose constructor imports every task
module it ships (about 100). That costs seconds, and several of those modules reach the
network when imported: tinyBenchmarks downloads a pickle, ifeval/ifbench call
`nltk.download`. On an offline cluster node that is a failure or a hang in a stage that
evaluates one benchmark. So:

- `ScopedRegistry` is lighteval's `Registry` with its task table given instead of discovered;
  task-string parsing (``name@n=4|0``) and metric parametrisation stay lighteval's own code.
- `LocalTask` is a `LightevalTask` whose dataset comes from memory (a local benchmark file read
  by `r1.evaluation.tasks`) instead of `datasets.load_dataset` on a Hub id. lighteval calls
  ``task.download_dataset_worker(task)`` per task, which is the seam it leaves for this.
- `ScopedPipeline` swaps the registry in for the duration of lighteval's own task set-up.

These rely on lighteval 0.13 internals (Registry's attributes, `_init_tasks_and_requests`);
lighteval is pinned in uv.lock, and the unit tests fail if they change.
"""

from __future__ import annotations

from unittest import mock

import lighteval.pipeline
from lighteval.pipeline import Pipeline
from lighteval.tasks.lighteval_task import LightevalTask, LightevalTaskConfig
from lighteval.tasks.registry import Registry


class LocalTask(LightevalTask):
    """A task whose rows are given (a `datasets.DatasetDict` keyed by evaluation split)."""

    def __init__(self, config: LightevalTaskConfig, dataset):
        super().__init__(config)
        self._local_dataset = dataset

    def download_dataset_worker(self, task=None):  # lighteval calls task.download_dataset_worker(task)
        dataset = self._local_dataset
        if self.dataset_filter is not None:
            dataset = dataset.filter(self.dataset_filter)
        return dataset


class ScopedRegistry(Registry):
    """lighteval's Registry over the given configs only (no import of its task modules)."""

    def __init__(self, configs: dict[str, LightevalTaskConfig], datasets: dict, tasks: str | None = None,
                 load_multilingual: bool = False, custom_tasks=None):
        # Registry.__init__ minus `load_all_task_configs`; custom_tasks is refused because the
        # configs are the whole table.
        if custom_tasks is not None:
            raise ValueError("ScopedRegistry takes its task configs directly, not custom_tasks")
        self.tasks_list = self._get_full_task_list_from_input_string(tasks) if tasks else []
        self._load_multilingual = load_multilingual
        self._custom_tasks = None
        self._task_registry = dict(configs)
        self._datasets = dict(datasets)
        self.task_to_configs = self._update_task_configs()

    def load_tasks(self) -> dict[str, LightevalTask]:
        tasks = {}
        for name, configs in self.task_to_configs.items():
            for config in configs:
                local = self._datasets.get(name)
                tasks[config.full_name] = LightevalTask(config) if local is None else LocalTask(config, local)
        return tasks


class ScopedPipeline(Pipeline):
    """lighteval's Pipeline with a `ScopedRegistry` in place of the full task registry."""

    def __init__(self, *, task_configs: dict[str, LightevalTaskConfig], datasets: dict | None = None, **kwargs):
        self._scoped_configs = task_configs
        self._scoped_datasets = datasets or {}
        super().__init__(**kwargs)

    def _init_tasks_and_requests(self, tasks: str):
        def make_registry(tasks=None, load_multilingual=False, custom_tasks=None):
            return ScopedRegistry(self._scoped_configs, self._scoped_datasets, tasks=tasks,
                                  load_multilingual=load_multilingual, custom_tasks=custom_tasks)

        # lighteval's method looks `Registry` up in its module when it runs; the patch lasts
        # for that call only, so the rest of lighteval keeps its own Registry.
        with mock.patch.object(lighteval.pipeline, "Registry", make_registry):
            super()._init_tasks_and_requests(tasks)
