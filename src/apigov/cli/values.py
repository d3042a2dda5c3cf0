"""The values the reporting commands' options take, without typer.

`options.py` declares the options with typer; the commands' bodies (`runs.py`), which the
quick route (`quick.py`) calls without importing typer, need only these.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING

from apigov.report import FORMATS
from apigov.spec.limits import MIB, Limits

if TYPE_CHECKING:
    from apigov.config import Config

OutputFormat = StrEnum("OutputFormat", {name: name for name in FORMATS})  # type: ignore[misc]


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


class OptionValueError(ValueError):
    """An option's value that its type let through but the command cannot use.

    A command raises it before it reads or writes anything; typer reports it as a usage error
    (exit 2) naming the option.
    """

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


def fail_threshold(fail_on: FailOn | None, config: Config) -> str:
    """The command line's --fail-on, else the configuration file's fail-on, else error."""
    if fail_on is not None:
        return fail_on.value
    return config.fail_on or FailOn.error.value


_SIZE = re.compile(r"^\s*(\d+)\s*([kKmMgG]?)i?[bB]?\s*$")


def parse_size(text: str, option: str = "--max-size") -> int:
    match = _SIZE.match(text)
    if not match:
        raise OptionValueError(f"{text!r} is not a size like 64M", option)
    factor = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[match[2].lower()]
    return int(match[1]) * factor


def make_limits(max_size: str, max_depth: int, allow_remote_refs: bool) -> Limits:
    return Limits(
        max_bytes=parse_size(max_size), max_depth=max_depth, allow_remote_refs=allow_remote_refs
    )
