"""Errors a planner can act on.

Every error carries a list of *problems*: one line each, naming the file, the row,
the practice or field, what is wrong and how to fix it. The CLI prints them all and
exits non-zero; the Python API raises them.
"""

from __future__ import annotations


class HuboptError(Exception):
    """Base class for every error hubopt raises on purpose."""

    #: CLI exit code for this kind of error.
    exit_code = 1

    def __init__(self, message: str, problems: list[str] | None = None):
        self.message = message
        self.problems = list(problems or [])
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"{self.message}\n{lines}"


class InputError(HuboptError, ValueError):
    """A scenario file or input table is missing, malformed or inconsistent."""

    exit_code = 2


class OutputExistsError(HuboptError, FileExistsError):
    """An output file exists and ``--force`` was not given."""

    exit_code = 3


class OutputError(HuboptError):
    """An output folder or file cannot be written: a file where a folder belongs (or
    the reverse), no permission, a full disk."""

    exit_code = 3


class NetworkError(HuboptError):
    """The road network cannot be loaded or practices cannot be placed on it."""

    exit_code = 4


class InfeasibleError(HuboptError):
    """No grouping satisfies the scenario's rules; ``problems`` says why."""

    exit_code = 5


class SolverError(HuboptError):
    """The solver failed to run or returned no usable solution."""

    exit_code = 6
