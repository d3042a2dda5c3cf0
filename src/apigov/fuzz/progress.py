"""A live per-operation display on a terminal; nothing at all elsewhere (CI logs stay clean)."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from apigov.fuzz.results import FuzzRun

REFRESH_S = 0.25


def wants_live_display(stream: TextIO = sys.stderr) -> bool:
    """A terminal, and not CI (CI=true is set by every common CI service)."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return stream.isatty() and not ci


class LiveProgress:
    """Requests and distinct failures per operation, redrawn at most four times a second."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.console = Console(file=stream)
        self.operations: list[str] = []
        self.live: Live | None = None
        self.last_draw = 0.0

    def started(self, operations: list[str]) -> None:
        self.operations = list(operations)
        self.live = Live(console=self.console, auto_refresh=False, transient=True)
        self.live.start()

    def update(self, run: FuzzRun) -> None:
        now = time.monotonic()
        if self.live is None or now - self.last_draw < REFRESH_S:
            return
        self.last_draw = now
        self.live.update(self._table(run), refresh=True)

    def finished(self, run: FuzzRun) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        self.console.print(run.summary(), highlight=False, markup=False)

    def _table(self, run: FuzzRun) -> Table:
        failures = Counter(key.operation for key in run.failures)
        table = Table(title=f"apigov fuzz {run.base_url}", title_justify="left")
        table.add_column("operation")
        table.add_column("requests", justify="right")
        table.add_column("failures", justify="right")
        for operation in self.operations:
            table.add_row(
                operation,
                f"{run.requests_per_operation.get(operation, 0):,}",
                str(failures.get(operation, 0)),
            )
        return table
