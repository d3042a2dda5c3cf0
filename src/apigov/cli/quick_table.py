"""Writes `_quick_table.py`: the quick route's table, read from the commands' typer declarations.

    python -m apigov.cli.quick_table        # rewrite src/apigov/cli/_quick_table.py

A test checks the file is what this writes. Only what `quick.parse` reads exactly as typer does
is accepted; a declaration outside that (an envvar, a callback, a multiple option, a path that
must exist, ...) is refused here with the reason, so that a command is never read differently.
"""

from __future__ import annotations

import inspect
import json
import sys
import typing
from enum import Enum
from pathlib import Path
from typing import Any

import typer.main
from typer._click import types  # typer's own click: private, but the table's test notices
from typer._types import TyperChoice
from typer.models import TyperPath

from apigov.cli.app import build_app, load_target
from apigov.cli.quick import Choice, CommandLine, FilePath, Flag, Integer, Param, Text

# The commands the quick route takes, and their bodies (which must not import typer).
QUICK_COMMANDS = {
    "lint": "apigov.cli.runs:run_lint",
    "validate": "apigov.cli.runs:run_validate",
}

TABLE = Path(__file__).with_name("_quick_table.py")


class Unsupported(Exception):  # noqa: N818 (a refusal, with its reason)
    pass


def command_lines() -> dict[str, CommandLine]:
    lines = {}
    for command, run in QUICK_COMMANDS.items():
        group = typer.main.get_command(build_app(command))
        declared = group.commands[command]  # type: ignore[attr-defined]
        lines[command] = _command_line(command, declared, run)
    return lines


def _command_line(command: str, declared: Any, run: str) -> CommandLine:
    function = declared.callback.__wrapped__  # typer wraps the declared function
    hints = typing.get_type_hints(function)
    body = load_target(run)
    if list(inspect.signature(body).parameters) != list(inspect.signature(function).parameters):
        raise Unsupported(f"{command}: {run} does not take the declared parameters, in order")
    arguments = None
    options: dict[str, str] = {}
    params: dict[str, Param] = {}
    for param in declared.params:
        where = f"{command} {param.name}"
        prompt = getattr(param, "prompt", None)
        if param.envvar is not None or param.callback is not None or param.is_eager or prompt:
            raise Unsupported(f"{where}: envvar, callback, eager or prompt")
        if param.param_type_name == "argument":
            if arguments is not None or param.nargs != -1 or not param.required:
                raise Unsupported(f"{where}: only one required argument that takes them all")
            if type(param.type) is not types.StringParamType:
                raise Unsupported(f"{where}: an argument of type {param.type.name}")
            arguments = param.name
            continue
        if param.multiple or param.count or param.secondary_opts or param.nargs != 1:
            raise Unsupported(f"{where}: multiple, counted, --x/--no-x or several values")
        params[param.name] = _param(where, param, hints[param.name])
        for spelling in param.opts:
            options[spelling] = param.name
    if arguments is None:
        raise Unsupported(f"{command}: no argument")
    return CommandLine(run=run, arguments=arguments, options=options, params=params)


def _param(where: str, param: Any, hint: Any) -> Param:
    # click's string, int and int range, typer's choice and path: what `quick` reads.
    kind, default = param.type, param.default
    if param.is_flag:
        if not param.is_bool_flag or default is not False:
            raise Unsupported(f"{where}: a flag other than off by default")
        return Flag()
    if type(kind) is types.StringParamType:
        return Text(default=default)
    if type(kind) is types.IntParamType:
        return Integer(default=default)
    if type(kind) is types.IntRange:
        if kind.clamp or kind.min_open or kind.max_open:
            raise Unsupported(f"{where}: a clamped or open range")
        return Integer(default=default, low=_bound(kind.min), high=_bound(kind.max))
    if type(kind) is TyperChoice:
        members = _enum_of(where, hint)
        if [str(member.value) for member in members] != [str(c) for c in kind.choices]:
            raise Unsupported(f"{where}: choices that are not the enum's values")
        return Choice(
            default=str(default.value) if isinstance(default, Enum) else default,
            enum=f"{members.__module__}:{members.__qualname__}",
            case_sensitive=kind.case_sensitive,
        )
    if type(kind) is TyperPath:
        if (
            kind.exists
            or kind.writable
            or not kind.readable
            or kind.resolve_path
            or kind.allow_dash
            or kind.type is not None
            or default is not None
        ):
            raise Unsupported(f"{where}: a path that must exist, be written, resolved or '-'")
        return FilePath(default=None, file_okay=kind.file_okay, dir_okay=kind.dir_okay)
    raise Unsupported(f"{where}: type {kind.name}")


def _bound(limit: float | None) -> int | None:
    return None if limit is None else int(limit)


def _enum_of(where: str, hint: Any) -> type[Enum]:
    for candidate in (hint, *typing.get_args(hint)):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            if "typer" in candidate.__module__ or candidate.__module__.endswith(".options"):
                raise Unsupported(f"{where}: the enum lives in a module that imports typer")
            return candidate
    raise Unsupported(f"{where}: a choice that is not an enum")


def render(lines: dict[str, CommandLine]) -> str:
    """The table as a module, written as the formatter would (one field per line)."""
    out = [
        '"""The quick route\'s table (see quick.py): written by',
        '`python -m apigov.cli.quick_table`, not by hand."""',
        "",
        "from apigov.cli.quick import Choice, CommandLine, FilePath, Flag, Integer, Text",
        "",
        "COMMAND_LINES = {",
    ]
    for command, line in lines.items():
        out += [
            f"    {_literal(command)}: CommandLine(",
            f"        run={_literal(line.run)},",
            f"        arguments={_literal(line.arguments)},",
            "        options={",
            *(
                f"            {_literal(spelling)}: {_literal(name)},"
                for spelling, name in line.options.items()
            ),
            "        },",
            "        params={",
        ]
        for name, param in line.params.items():
            fields = [
                f"{field}={_literal(getattr(param, field))}," for field in param.__struct_fields__
            ]
            if not fields:
                out.append(f"            {_literal(name)}: {type(param).__name__}(),")
                continue
            out.append(f"            {_literal(name)}: {type(param).__name__}(")
            out += [f"                {field}" for field in fields]
            out.append("            ),")
        out += ["        },", "    ),"]
    out.append("}")
    return "\n".join(out) + "\n"


def _literal(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


if __name__ == "__main__":
    TABLE.write_text(render(command_lines()), encoding="utf-8")
    sys.stdout.write(f"wrote {TABLE}\n")
