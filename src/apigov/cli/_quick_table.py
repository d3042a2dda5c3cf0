"""The quick route's table (see quick.py): written by
`python -m apigov.cli.quick_table`, not by hand."""

from apigov.cli.quick import Choice, CommandLine, FilePath, Flag, Integer, Text

COMMAND_LINES = {
    "lint": CommandLine(
        run="apigov.cli.runs:run_lint",
        arguments="paths",
        options={
            "--ruleset": "ruleset",
            "-r": "ruleset",
            "--format": "fmt",
            "-f": "fmt",
            "--output": "output",
            "-o": "output",
            "--fail-on": "fail_on",
            "--max-size": "max_size",
            "--max-depth": "max_depth",
            "--allow-remote-refs": "allow_remote_refs",
            "--root": "root",
            "--config": "config_file",
            "--debug": "debug",
        },
        params={
            "ruleset": Text(
                default=None,
            ),
            "fmt": Choice(
                default="text",
                enum="apigov.cli.values:OutputFormat",
                case_sensitive=False,
            ),
            "output": FilePath(
                default=None,
                file_okay=True,
                dir_okay=False,
            ),
            "fail_on": Choice(
                default=None,
                enum="apigov.cli.values:FailOn",
                case_sensitive=False,
            ),
            "max_size": Text(
                default="64M",
            ),
            "max_depth": Integer(
                default=256,
                low=8,
                high=10000,
            ),
            "allow_remote_refs": Flag(),
            "root": FilePath(
                default=None,
                file_okay=False,
                dir_okay=True,
            ),
            "config_file": FilePath(
                default=None,
                file_okay=True,
                dir_okay=False,
            ),
            "debug": Flag(),
        },
    ),
    "validate": CommandLine(
        run="apigov.cli.runs:run_validate",
        arguments="paths",
        options={
            "--format": "fmt",
            "-f": "fmt",
            "--output": "output",
            "-o": "output",
            "--fail-on": "fail_on",
            "--max-size": "max_size",
            "--max-depth": "max_depth",
            "--allow-remote-refs": "allow_remote_refs",
            "--root": "root",
            "--config": "config_file",
            "--debug": "debug",
        },
        params={
            "fmt": Choice(
                default="text",
                enum="apigov.cli.values:OutputFormat",
                case_sensitive=False,
            ),
            "output": FilePath(
                default=None,
                file_okay=True,
                dir_okay=False,
            ),
            "fail_on": Choice(
                default=None,
                enum="apigov.cli.values:FailOn",
                case_sensitive=False,
            ),
            "max_size": Text(
                default="64M",
            ),
            "max_depth": Integer(
                default=256,
                low=8,
                high=10000,
            ),
            "allow_remote_refs": Flag(),
            "root": FilePath(
                default=None,
                file_okay=False,
                dir_okay=True,
            ),
            "config_file": FilePath(
                default=None,
                file_okay=True,
                dir_okay=False,
            ),
            "debug": Flag(),
        },
    ),
}
