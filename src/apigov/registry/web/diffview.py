"""The diff view: two stored versions of a service compared by apigov's diff engine.

Both specs are rebuilt from the registry exactly as published (`operations.load_stored_spec`,
the registry-ref path `apigov diff orders@1.0.0 orders@2.0.0` takes) and compared by
`apigov.diff.run_diff` with the pacts of the consumers that matter: each consumer's latest
version and every consumer version deployed or released anywhere. Breaking changes come first,
each naming the consumers whose interactions use what changed; the rest follow, grouped by
operation. Published contents never change, so a comparison is remembered by the two spec
digests and the pacts' SHA-256s.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from fastapi import Request
from msgspec import Struct, field

from apigov.diff import run_diff
from apigov.findings import Finding, Level
from apigov.registry.domain import Registry
from apigov.registry.web import data
from apigov.registry.web.operations import load_stored_spec
from apigov.registry.web.pages import reading
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import PactFile

CACHED_DIFFS = 64


class Comparison(Struct):
    breaking: list[Finding]
    by_operation: list[tuple[str, list[Finding]]]
    consumers: list[str]  # consumer@version whose pacts were read


class DiffView(Struct):
    service: str
    base: str
    head: str
    versions: list[str] = field(default_factory=list)
    problem: str | None = None
    missing: bool = False  # the problem is something the registry does not hold (404)
    comparison: Comparison | None = None


_cache: OrderedDict[tuple[str, ...], Comparison] = OrderedDict()
_lock = threading.Lock()


def build_diff(request: Request, service: str, base: str, head: str) -> DiffView:
    view = DiffView(service, base, head)
    if not service:
        return view
    registry = request.app.state.registry
    with reading(request) as connection:
        row = data.service_row(connection, service)
        if row is None:
            view.problem = f"there is no service {service!r} in the registry"
            view.missing = True
            return view
        view.versions = data.version_numbers(connection, row.id)
        if len(view.versions) < 2 and not (base and head):
            view.problem = f"{service} has {len(view.versions)} version(s): nothing to compare"
            return view
        # Newest first: by default, what the latest version changed.
        view.head = head = head or view.versions[0]
        view.base = base = base or next((v for v in view.versions if v != head), head)
        for number in (base, head):
            if number not in view.versions:
                view.problem = f"{service} has no version {number!r}"
                view.missing = True
                return view
        pacts = data.consumer_pacts_for_diff(connection, service)
    try:
        view.comparison = compare(registry, service, base, head, pacts)
    except InputError as error:
        view.problem = f"{error.file}: {error.message}"
    return view


def compare(
    registry: Registry, service: str, base: str, head: str, pacts: list[data.PactLink]
) -> Comparison:
    records = registry.versions([(service, base), (service, head)])
    digests = tuple(
        (records[(service, v)].spec_digest or "") if (service, v) in records else ""
        for v in (base, head)
    )
    key = (*digests, *sorted({p.sha256 for p in pacts}))
    with _lock:
        cached = _cache.get(key) if all(digests) else None
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    comparison = _compare(registry, service, base, head, pacts)
    if all(digests):
        with _lock:
            _cache[key] = comparison
            while len(_cache) > CACHED_DIFFS:
                _cache.popitem(last=False)
    return comparison


def _compare(
    registry: Registry, service: str, base: str, head: str, pacts: list[data.PactLink]
) -> Comparison:
    with tempfile.TemporaryDirectory(prefix="apigov-web-diff-") as temporary:
        folder = Path(temporary).resolve()
        old = load_stored_spec(registry, service, base, folder / "base")
        new = load_stored_spec(registry, service, head, folder / "head")
        consumers = _load_pacts(registry, pacts, folder / "pacts")
        report = run_diff(
            old,
            new,
            include_info=True,
            consumers=consumers,
        )
    findings = report.sorted_findings()
    # What breaks most consumers first: that is what blocks a deployment.
    breaking = sorted(
        (f for f in findings if f.level is Level.ERROR),
        key=lambda f: (-len(f.consumers), f.operation or "", f.id, f.message),
    )
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.level is not Level.ERROR:
            groups.setdefault(finding.operation or "(whole document)", []).append(finding)
    by_operation = sorted(groups.items(), key=lambda item: (item[0].startswith("("), item[0]))
    labels = sorted({f"{p.consumer}@{p.consumer_version}" for p in pacts})
    return Comparison(breaking, by_operation, labels)


def _load_pacts(registry: Registry, pacts: list[data.PactLink], into: Path) -> list[PactFile]:
    """Each distinct pact content once, written where the loader can read it."""
    distinct: dict[str, data.PactLink] = {}
    for pact in pacts:
        distinct.setdefault(pact.sha256, pact)
    contents = registry.contents(sorted(distinct))
    loader = Loader(root=into)
    loaded = []
    ordered = sorted(distinct.items(), key=lambda item: item[1].consumer)
    for index, (sha256, pact) in enumerate(ordered):
        content = contents.get(sha256)
        if content is None:
            continue
        # Numbered folders: stored names are data, never trusted as file names.
        name = "pact.json" if pact.path.endswith(".json") else "pact.yaml"
        target = into / str(index) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        document = loader.load(str(target))
        if isinstance(document, PactFile):
            document.service = pact.consumer
            loaded.append(document)
    return loaded
