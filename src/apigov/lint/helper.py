"""A second process for the costliest rule functions, working while the walk goes on.

Linting a large document spends a third of its work or more in a few built-in functions: the
document checked against the OpenAPI schema, examples checked against their schemas, and the
checks that read the whole document once (operation ids, path parameters, tags, unused
components). On a machine with a processor to spare, `LintRun` forks a helper just before its
walk. The helper holds the same document, and the walk sends it those calls (`Task`) as it
reaches them instead of making them. The walk is still the one walk of the document; the
helper only makes calls. vacuum, another linter our users run, lints with every processor of a
machine in the same spirit.

What is found does not change:
- A call is sent as its path number and the route the walk took to the node. The helper takes
  the same route over its copy of the document, following each `$ref` the walk followed
  (`_route`), and dispatches the rule there (`LintRun.dispatch`).
- Its results come back after the walk, while the walk's process places its own findings.
- If the helper cannot be started or fails in any way (a crash, a signal, a function raising),
  the walk's process makes the calls itself, in the same order, as it would have without a
  helper: the same findings, the same errors.

Only rules whose every function is in `HEAVY` are sent: apigov's own, pure functions, which keep
nothing between calls but the run's caches. A ruleset's own functions always run in the walk's
process (they may count, print or write).

When: `Linter(helper=True)`, which only `apigov lint` asks for (unless `APIGOV_SINGLE_PROCESS`
is set); on Linux, with two or more processors usable, no other thread running, and documents
of `MIN_DOCUMENT_BYTES` or more. Anything smaller costs more to fork than it saves.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from apigov.lint.functions.oas import (
    document_schema,
    oas_example,
    op_id_unique,
    op_params,
    op_success_response,
    path_params,
    security_defined,
    tag_defined,
    unused_component,
)

if TYPE_CHECKING:
    from apigov.lint.context import Path
    from apigov.lint.engine import CompiledRuleset, LintRun
    from apigov.spec.sources import Source

HEAVY: frozenset[Callable[..., Any]] = frozenset(
    {
        *(document_schema, oas_example),  # a third or more of a large document's work
        # Once per document each, a few milliseconds apiece on a large one:
        *(op_id_unique, path_params, tag_defined, unused_component),
        # Once per operation, the costliest of those (resolving parameters and security):
        *(security_defined, op_params, op_success_response),
    }
)
"""The functions a helper makes the calls of. Not the calls made once per schema or per value
(`typedEnum`, `oasSchema` on enums, `pattern`): sending and routing each to the helper cost
it more than the walk's process saved (measured: on DigitalOcean's document, where the helper
is already the longer of the two, the run grew by 4%)."""

MIN_DOCUMENT_BYTES = 200_000
"""The size of text (the document and the files it refers to) from which a helper is forked.
Measured on a 2-processor machine (wall time, medians of 9 runs): Adyen's Transfer API
(249 KB) lints 4% faster with a helper, its Management API (1.4 MB) about a fifth faster
(docs/benchmarks.md). Forking costs about 3 ms."""

_BATCH = 16
"""Tasks written to the helper at once: one write per batch, not per call."""

Task = tuple[int, Any, str | int, "Path", "Source", bool]
"""`LintRun.dispatch`'s arguments: (path number, node, key, route, file, resolved)."""

Found = tuple[int, list[Any], str, bool]
"""A result as the helper sends it: (path number, path, message, resolved)."""


def heavy_numbers(compiled: CompiledRuleset) -> frozenset[int]:
    """The path numbers whose rule calls `HEAVY` functions only (and so can go to a helper)."""
    return frozenset(
        number
        for number, (_rule, _keys_only, thens) in enumerate(compiled.targets)
        if all(then.function in HEAVY for then, _passes in thens)
    )


def can_fork() -> bool:
    """A helper can be forked here: Linux (fork is safe, and the usable processors are known),
    a second processor to run it on, and no other thread that could hold a lock the copy would
    inherit (a server linting in a thread never forks)."""
    if not hasattr(os, "fork") or not hasattr(os, "sched_getaffinity"):
        return False
    return len(os.sched_getaffinity(0)) >= 2 and threading.active_count() == 1


class Helper:
    """The walk's side of a helper process: sends it tasks, then gathers its results."""

    def __init__(self, run: LintRun) -> None:
        self.pending: list[Task] = []
        """Every task sent, in order: what the walk's process runs if the helper fails."""
        self._batch: list[tuple[int, str | int, list[str | int], bool]] = []
        self._encode = msgspec.msgpack.Encoder().encode
        self._gone = False
        self._waited = False
        tasks_read, self._tasks = os.pipe()
        self._results, results_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to be had: the caller goes on without a helper
            for descriptor in (tasks_read, self._tasks, self._results, results_write):
                os.close(descriptor)
            raise
        if pid == 0:
            os.close(self._tasks)
            os.close(self._results)
            _serve(run, tasks_read, results_write)  # never returns
        os.close(tasks_read)
        os.close(results_write)
        self._pid = pid

    def send(self, task: Task) -> None:
        self.pending.append(task)
        number, _node, key, where, _source, resolved = task
        # The helper finds the node again by its route: its copy of the document is at the
        # same addresses, but Python has no way to name an object by its address.
        self._batch.append((number, key, list(where), resolved))
        # The first task at once (the document schema's, at the root, is the longest), then
        # in batches.
        if len(self._batch) >= _BATCH or len(self.pending) == 1:
            self._flush()

    def _flush(self) -> None:
        payload = self._encode(self._batch)
        self._batch = []
        if self._gone:
            return
        try:
            _write_all(self._tasks, len(payload).to_bytes(4, "little") + payload)
        except OSError:  # the helper ended early: `results` says so, and nothing more is sent
            self._gone = True

    def close(self) -> None:
        """No more tasks: the last batch is sent, and the helper told so."""
        if self._batch:
            self._flush()
        self._close_tasks()

    def _close_tasks(self) -> None:
        # Each end is closed once: its number may be another file's once closed.
        if self._tasks >= 0:
            os.close(self._tasks)
            self._tasks = -1

    def results(self) -> list[Found] | None:
        """The helper's results in task order once it is done; None if it failed (the caller
        then runs `pending` itself)."""
        try:
            payload = _read_all(self._results)
        except OSError:
            payload = b""
        finally:
            os.close(self._results)
            self._results = -1
        _pid, status = os.waitpid(self._pid, 0)
        self._waited = True
        if status != 0 or not payload:
            return None
        try:
            found: list[Found] = msgspec.msgpack.decode(payload, type=list[Found])
        except msgspec.DecodeError:
            return None
        return found

    def stop(self) -> None:
        """After an error in the walk: end the helper, without its results."""
        self._close_tasks()
        if self._results >= 0:
            os.close(self._results)
            self._results = -1
        if not self._waited:  # once waited for, its number may be another process's
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._waited = True


def _serve(run: LintRun, tasks: int, results: int) -> None:
    """The helper's whole life: make every call it is sent, write what they found, and end
    without running anything of the parent's (no exit handlers, no buffered output)."""
    status = 1  # unless every call is made and written: the walk's process makes them then
    try:
        decode = msgspec.msgpack.Decoder(list[tuple[int, str | int, list[str | int], bool]])
        while header := _read_exactly(tasks, 4):
            batch = decode.decode(_read_exactly(tasks, int.from_bytes(header, "little")))
            for number, key, where, resolved in batch:
                node, source = _route(run, where, resolved)
                run.dispatch(number, node, key, tuple(where), source, resolved)
        numbers = {id(rule): number for number, (rule, _k, _t) in enumerate(run.compiled.targets)}
        found: list[Found] = [
            (numbers[id(raw.rule)], list(raw.path), raw.message, raw.resolved) for raw in run.raw
        ]
        _write_all(results, msgspec.msgpack.encode(found))
        status = 0
    finally:
        os._exit(status)


def _route(run: LintRun, where: list[str | int], resolved: bool) -> tuple[Any, Source]:
    """The node the walk reached by `where`, and the file holding it. On a resolved route each
    `$ref` is followed as the walk follows it: unless it is missing or loops back to a place
    followed on the way there."""
    source = run.spec.source
    node: Any = source.data
    followed: tuple[tuple[str, str], ...] = ()
    for key in where:
        node = node[key]
        if resolved and type(node) is dict and type(node.get("$ref")) is str:
            target = run.target(node, source, followed)
            if target is not None:
                node, source, pointer = target
                followed = (*followed, (source.key, pointer))
    return node, source


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _read_exactly(descriptor: int, size: int) -> bytes:
    """`size` bytes, or fewer if the writer closed its end first."""
    chunks: list[bytes] = []
    while size:
        chunk = os.read(descriptor, size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_all(descriptor: int) -> bytes:
    chunks: list[bytes] = []
    while chunk := os.read(descriptor, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
