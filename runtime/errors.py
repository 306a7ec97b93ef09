"""The one exception the runtime raises for bad input: the CLI prints it as one line and exits with 2."""
from __future__ import annotations


class InputError(ValueError):
    """A problem with something the user gave us; the message names the file and the problem."""

    def __init__(self, source: object, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source, self.problem = str(source), problem
