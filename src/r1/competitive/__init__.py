"""Competitive programming: Codeforces and IOI problems judged as their judges do.

- :mod:`r1.competitive.problems`: dataset rows (open-r1/codeforces, open-r1/ioi) to sandbox
  problems with their time and memory limits, checkers and graders;
- :mod:`r1.competitive.scoring`: open-r1's Codeforces scoring modes and IOI subtask scores;
- :mod:`r1.competitive.patch`: open-r1's ``patch_code`` fixes;
- :mod:`r1.competitive.remote`: the Piston and Morph providers (the local sandbox,
  :class:`r1.sandbox.local.LocalSandbox`, is the default);
- :mod:`r1.competitive.scorer`: one scorer for the rewards and the filter stage.
"""
