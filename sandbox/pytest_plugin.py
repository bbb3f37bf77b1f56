"""pytest plugin shipped with the package: fixtures that start the whole sandbox stack.

Filled in by the orchestration work (issue 6); registered through the `pytest11` entry point.
"""
