"""Push DVC's run-cache to a remote together with the outputs of every run it records.

DVC 3's `dvc push --run-cache` sends only the run records (.dvc/cache/runs) and, as a plain
`dvc push`, the outputs of the current dvc.lock: dvc/repo/push.py gets the list of records from
StageCache.push but, since push moved to the data index, never collects their outputs (DVC 2
passed it to Repo.used_objs as used_run_cache). So the outputs of any other run, and the
uncached metrics that StageCache.save commits to the cache for every run (metrics/filter.json),
never reach the remote, and another machine's `dvc repro --pull` finds the run but not its
outputs and runs the stage. DVC still has every piece; this calls them as DVC 2's push did.

Runs in DVC's own interpreter (scripts/push-run-cache finds it): DVC is not in the ML env.
"""

from __future__ import annotations

import argparse
import sys


def push_run_cache(remote: str | None = None, jobs: int | None = None) -> tuple[int, int, int]:
    """(run records, objects pushed, objects failed)."""
    from dvc.repo import Repo, lock_repo

    with Repo() as repo, lock_repo(repo):
        records = repo.stage_cache.push(remote)  # every local record, as `dvc push --run-cache`
        used = repo.stage_cache.get_used_objs(records, remote=remote, force=True, jobs=jobs)
        pushed = failed = 0
        for odb, objs in used.items():
            result = repo.cloud.push(objs, jobs=jobs, remote=remote, odb=odb)
            pushed += len(result.transferred)
            failed += len(result.failed)
    return len(records), pushed, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/push-run-cache", description=__doc__.split("\n\n")[0])
    parser.add_argument("-r", "--remote", help="DVC remote (default: core.remote)")
    parser.add_argument("-j", "--jobs", type=int, help="parallel transfers (default: DVC's)")
    args = parser.parse_args(argv)
    from dvc.exceptions import DvcException

    try:
        records, pushed, failed = push_run_cache(args.remote, args.jobs)
    except DvcException as exc:
        # DVC's message (e.g. no remote: how to add one) on one line.
        print(f"push-run-cache: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(f"{records} run records and {pushed} objects of their outputs pushed")
    if failed:
        print(f"push-run-cache: {failed} objects failed to upload (run with DVC's -v for why)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
