"""The `apigov` command line: thin commands over the pipeline, and the one error handler."""

from __future__ import annotations

import sys
import traceback

import typer

from apigov import __version__
from apigov.cli.check import check
from apigov.cli.compat import compat
from apigov.cli.diff import register as register_diff_commands
from apigov.cli.fuzz import fuzz
from apigov.cli.graph import graph
from apigov.cli.init import init
from apigov.cli.lint import lint
from apigov.cli.registry import register as register_registry_commands
from apigov.cli.validate import validate
from apigov.cli.verify import verify
from apigov.spec.errors import InputError, UnreachableError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_UNREACHABLE = 0, 1, 2, 3

app = typer.Typer(
    name="apigov",
    help="Contract testing and API governance for fleets of microservices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command(name="validate")(validate)
# Each capability registers its command (or command group) below, one line each.
app.command(name="verify")(verify)
app.command(name="check")(check)
app.command(name="graph")(graph)
app.command(name="init")(init)
app.command(name="lint")(lint)
app.command(name="compat")(compat)
app.command(name="fuzz")(fuzz)
register_diff_commands(app)
register_registry_commands(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"apigov {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Contract testing and API governance for fleets of microservices."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure ends as one line on stderr and a documented exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # Standalone mode: typer itself turns usage errors into exit 2 and `Exit` into its code.
        app(args=args, prog_name="apigov")
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


def _fail(message: str, code: int, debug: bool = False) -> None:
    if debug:
        traceback.print_exc()
    first_line = message.splitlines()[0] if message else "error"
    sys.stderr.write(f"apigov: error: {first_line}\n")
    sys.exit(code)
