"""The quick route: a reporting command's own options read without importing typer.

Importing typer costs about 0.07 G instructions: a fifth of a small document's `apigov
lint`, 7% of a 1.4 MB one's. The commands' options are declared once, with typer; `quick_table`
reads those declarations into `_quick_table.py` (generated; a test checks it is up to date),
and `parse` reads a command line with that table the way typer would, to the same values.

Whatever it is not certain of, it leaves to typer (`NotQuick`), which then answers as always,
errors included: an unknown option (`--help` among them), `--`, a short option with its value
attached, an option value starting with "-", a value its type refuses, a missing argument.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Any, cast

from msgspec import Struct

from apigov.cli.app import load_target


class NotQuick(Exception):  # noqa: N818 (not an error: typer takes the command line instead)
    """The quick route leaves this command line to typer."""


class Flag(Struct, frozen=True):
    """`--debug`: True when given (any number of times), else False."""


class Text(Struct, frozen=True):
    default: str | None

    def read(self, text: str) -> str:
        return text


class Integer(Struct, frozen=True):
    """An int option, perhaps with an inclusive range (`min=`/`max=` in the declaration)."""

    default: int | None
    low: int | None = None
    high: int | None = None

    def read(self, text: str) -> int:
        try:
            number = int(text)  # what click's INT does (" 12", "+12" and "1_2" included)
        except ValueError:
            raise NotQuick from None
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise NotQuick
        return number


class Choice(Struct, frozen=True):
    """An enum option: its value names a member, perhaps in any case (`case_sensitive=False`)."""

    default: str | None
    enum: str  # "module:Class", a module that does not import typer
    case_sensitive: bool

    def read(self, text: str) -> Enum:
        members = cast("type[Enum]", load_target(self.enum))
        wanted = text if self.case_sensitive else text.casefold()
        for member in members:
            written = str(member.value)
            if (written if self.case_sensitive else written.casefold()) == wanted:
                return members(written)
        raise NotQuick


class FilePath(Struct, frozen=True):
    """A path option: no need to exist, but what exists must be of a kind allowed and readable,
    as click's path type checks."""

    default: None
    file_okay: bool
    dir_okay: bool

    def read(self, text: str) -> Path:
        path = Path(text)
        try:
            found = path.stat()
        except OSError:
            return path
        refused = (not self.file_okay and stat.S_ISREG(found.st_mode)) or (
            not self.dir_okay and stat.S_ISDIR(found.st_mode)
        )
        if refused or not os.access(text, os.R_OK):
            raise NotQuick
        return path


Param = Flag | Text | Integer | Choice | FilePath


class CommandLine(Struct, frozen=True):
    """One command's parameters as typer declares them, and the body that takes them."""

    run: str  # "module:function", the command's body (it does not import typer)
    arguments: str  # the parameter that takes every positional argument (one or more)
    options: dict[str, str]  # option spelling -> parameter
    params: dict[str, Param]  # the options' parameters, in the body's order


def parse(line: CommandLine, args: Sequence[str]) -> dict[str, Any]:
    """The keyword arguments typer would call the command's body with, given `args` (the
    command line after the command's name); `NotQuick` when that is not certain."""
    given: dict[str, Any] = {}
    positional: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg[:1] != "-" or arg == "-":
            positional.append(arg)
            continue
        option, attached, value = arg.partition("=")
        if attached and option[:2] != "--":
            raise NotQuick  # click reads `-r=x` as `-r` with the value "=x"
        name = line.options.get(option)
        if name is None:
            raise NotQuick
        param = line.params[name]
        if isinstance(param, Flag):
            if attached:
                raise NotQuick
            given[name] = True
            continue
        if not attached:
            value = next(rest, "-")  # a missing value is refused just below
        if value[:1] == "-":
            raise NotQuick  # click would take it as the value; a mistake more often than not
        given[name] = param.read(value)
    if not positional:
        raise NotQuick
    values: dict[str, Any] = {line.arguments: positional}
    for name, param in line.params.items():
        if name in given:
            values[name] = given[name]
        elif isinstance(param, Flag):
            values[name] = False
        else:
            values[name] = None if param.default is None else param.read(str(param.default))
    return values


def run_quickly(command: str, args: Sequence[str]) -> None:
    """Run `command` with `args` if the quick route takes them (the body ends with
    `SystemExit`); return when typer has to (`NotQuick`, or a value the body refused)."""
    from apigov.cli._quick_table import COMMAND_LINES
    from apigov.cli.values import OptionValueError

    line = COMMAND_LINES.get(command)
    if line is None:
        return
    try:
        values = parse(line, args)
    except NotQuick:
        return
    run = load_target(line.run)
    try:
        run(**values)
    except OptionValueError:
        return  # raised before the body read or wrote anything: typer reports it
