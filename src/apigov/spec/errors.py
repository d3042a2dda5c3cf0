"""Input errors: a document that cannot be read, parsed, or trusted. Always exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """One clear line naming the file and the place. The CLI prints it and exits 2."""

    def __init__(
        self,
        file: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        pointer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.message = message
        self.line = line
        self.column = column
        self.pointer = pointer

    def __str__(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        where = f" (at {self.pointer})" if self.pointer else ""
        return f"{place}: {self.message}{where}"


class UnreachableError(Exception):
    """A registry or remote service could not be reached. Exit code 3."""
