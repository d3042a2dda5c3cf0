"""The `apigov` command line: thin commands over the pipeline, and the one error handler."""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from apigov import __version__

if TYPE_CHECKING:
    import typer

# typer, and everything else a command needs, is imported when `main` runs, after it has paused
# the cycle collector for a command that ends the process (see `main`).

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_UNREACHABLE = 0, 1, 2, 3

# Every command, by name, as "module:function". Modules are imported only for the command that
# runs (all of them for --help): importing every command's dependencies cost each run about
# 0.1 s and 10 MB before it did anything.
# Each capability registers its command (or command group) below, one line each.
COMMANDS: dict[str, str] = {
    "validate": "apigov.cli.validate:validate",
    "verify": "apigov.cli.verify:verify",
    "check": "apigov.cli.check:check",
    "graph": "apigov.cli.graph:graph",
    "init": "apigov.cli.init:init",
    "lint": "apigov.cli.lint:lint",
    "compat": "apigov.cli.compat:compat",
    "fuzz": "apigov.cli.fuzz:fuzz",
}
# Modules that register several commands at once ("module:register"), with the names they add.
COMMAND_GROUPS: dict[str, tuple[str, ...]] = {
    "apigov.cli.diff:register": ("diff", "changelog"),
    "apigov.cli.registry:register": (
        "publish",
        "record-deployment",
        "record-undeployment",
        "record-release",
        "record-verification",
        "can-i-deploy",
        "registry",
    ),
}


def load_target(target: str) -> Callable[..., Any]:
    """The function a "module:function" names (importing the module)."""
    module, _, name = target.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def _version(value: bool) -> None:
    if value:
        import typer

        typer.echo(f"apigov {__version__}")
        raise typer.Exit(0)


def build_app(only: str | None = None) -> typer.Typer:
    """The command line with every command, or with only the command `only` (and the commands
    registered beside it), which is all one run needs; `only=""`: no command at all."""
    import typer

    from apigov.cli.registry_options import offer_registry_token

    def _root(
        version: bool = typer.Option(
            False,
            "--version",
            callback=_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ) -> None:
        """Contract testing and API governance for fleets of microservices."""

    app = typer.Typer(
        name="apigov",
        help="Contract testing and API governance for fleets of microservices.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    for name, target in COMMANDS.items():
        if only is None or only == name:
            app.command(name=name)(load_target(target))
    for register, names in COMMAND_GROUPS.items():
        if only is None or only in names:
            load_target(register)(app)
    # Last: every command registered so far that takes --registry is given --registry-token.
    offer_registry_token(app)
    return app


def _command_named_in(args: list[str]) -> str | None:
    """The command the arguments name, if they name a known one before any option ("" for
    `--version`, which needs none)."""
    for arg in args:
        if arg == "--version":
            return ""
        if arg.startswith("-"):
            return None  # `apigov --help`: the whole app answers
        known = arg in COMMANDS or any(arg in names for names in COMMAND_GROUPS.values())
        return arg if known else None
    return None


def __getattr__(name: str) -> Any:
    # `from apigov.cli.app import app`: the whole command line, built on first use.
    if name == "app":
        global _whole_app
        if _whole_app is None:
            _whole_app = build_app()
        return _whole_app
    raise AttributeError(name)


_whole_app: typer.Typer | None = None


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure ends as one line on stderr and a documented exit code.

    Without `argv` (the `apigov` command, a process of its own), a command that only reads
    and reports ends the process at once when it is done: see `_exit_now`.
    """
    args = sys.argv[1:] if argv is None else argv
    command = _command_named_in(args)
    exits_at_once = argv is None and command in EXITS_AT_ONCE
    if exits_at_once:
        # Nothing such a command allocates outlives it, and most of it holds no cycles: the
        # cycle collector's passes over the modules being imported and the documents being
        # read would find nothing (4% of `apigov lint`'s start-up).
        gc.disable()
    try:
        _run(args, command)
    except SystemExit as done:
        if exits_at_once:
            _exit_now(done.code)
        raise


def _run(args: list[str], command: str | None) -> None:
    from apigov.spec.errors import InputError, UnreachableError

    debug = "--debug" in args
    try:
        if command:
            # Most command lines of `lint` and `validate` end here, without importing typer.
            from apigov.cli.quick import run_quickly

            run_quickly(command, args[1:])
        # Standalone mode: typer itself turns usage errors into exit 2 and `Exit` into its code.
        build_app(command)(args=args, prog_name="apigov")
    except InputError as error:
        _fail(str(error), EXIT_INPUT, debug)
    except UnreachableError as error:
        _fail(str(error), EXIT_UNREACHABLE, debug)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except (MemoryError, RecursionError) as error:
        _fail(f"input too large or too deeply nested ({type(error).__name__})", EXIT_INPUT, debug)
    except Exception as error:  # the one place that catches everything
        _fail(
            f"internal error: {type(error).__name__}: {error} (run with --debug for the traceback)",
            EXIT_INPUT,
            debug,
        )
    sys.exit(EXIT_OK)


# Commands that read files (and perhaps a registry), write one report and hold nothing open
# when they return; not `registry serve`, `fuzz` or the commands that write to a registry.
EXITS_AT_ONCE = frozenset({"validate", "lint", "diff", "changelog", "compat", "graph", ""})


def _exit_now(code: object) -> NoReturn:
    """End the process with `code` (as `sys.exit` reads it) without tearing the interpreter
    down: what the interpreter would still do for the user is done here first.

    Tearing down frees every object one by one (with a collection of cycles first): on a
    1.4 MB document, 3% of `apigov lint`'s instructions, spent after the report is written.
    Exit handlers still run and the standard streams are flushed; every file the commands
    write is written whole and closed before they return (`write_atomically`).
    """
    if code is None:
        status = EXIT_OK
    elif isinstance(code, int):
        status = code
    else:  # `sys.exit("message")`: the message goes to stderr and the status is 1
        sys.stderr.write(f"{code}\n")
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone, or a stream closed
            stream.flush()
    os._exit(status)


def _fail(message: str, code: int, debug: bool = False) -> None:
    if debug:
        import traceback  # only for --debug

        traceback.print_exc()
    first_line = message.splitlines()[0] if message else "error"
    sys.stderr.write(f"apigov: error: {first_line}\n")
    sys.exit(code)
