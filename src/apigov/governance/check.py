"""`apigov check`'s analyzer: one pass over a contracts tree, one report.

In order: validation of every document, lint of every valid OpenAPI document, the static
compatibility of every pact against its provider's spec in the tree, breaking changes of every
spec changed since `base_ref` (git), and the fleet rules over the dependency graph. Findings keep
their capability's id. Results per document are cached (`AnalysisCache`) by content hash, so a
warm run re-analyses only what changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field
from msgspec.structs import replace

from apigov import __version__
from apigov.config import Config
from apigov.findings import Finding, Level, Report, RuleInfo, finding_from_dict
from apigov.governance.cache import CACHE_FOLDER, AnalysisCache
from apigov.governance.graph import FleetGraph, build_graph
from apigov.governance.rules import FleetSettings, fleet_findings, fleet_rule_info
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, AsyncApiSpec, Document, PactFile
from apigov.spec.sources import display_name, git_top, read_file

if TYPE_CHECKING:
    from apigov.diff import Policy

BUILTIN_PREFIXES = ("apigov:", "spectral:")


class Verdict(StrEnum):
    """What the check says about one consumer -> provider edge."""

    COMPATIBLE = "compatible"
    BROKEN = "broken"
    UNCHECKED = "unchecked"


class CheckSettings(Struct, frozen=True):
    """Everything `apigov check` needs besides the tree: resolved from options and config."""

    ruleset: str = "apigov:recommended"
    policy: Policy | None = None
    policy_digest: str = ""
    fleet: FleetSettings = field(default_factory=FleetSettings)
    base_ref: str | None = None
    cache_folder: Path | None = None
    today: dt.date | None = None
    environments: tuple[str, ...] = ()
    """Also diff every spec against the version live in each of these registry environments."""
    registry: str | None = None


class CheckResult(Struct):
    report: Report
    graph: FleetGraph | None
    """None when the whole report was replayed from the cache (nothing changed)."""
    verdicts: dict[tuple[str, str], Verdict]
    cache: AnalysisCache
    replayed: bool = False


def run_check(
    root: str, loader: Loader, settings: CheckSettings, *, replay: bool = True
) -> CheckResult:
    """Everything `apigov check` reports about the contracts tree at `root`.

    With `replay` (and a cache), a run over exactly the same files, settings and day as an
    earlier one returns that run's report without parsing anything; `graph` is then None.
    Callers that need the graph pass `replay=False` (per-document results still come from
    the cache).
    """
    runner = _Check(root, loader, settings)
    # What is deployed is registry state, not file content: such runs are never replayed.
    if replay and settings.cache_folder is not None and not settings.environments:
        return runner.replay_or_run()
    return runner.run()


def _inputs(document: Document) -> list[tuple[str, str]]:
    """(name, content hash) of the document and every file its `$ref`s reach."""
    if isinstance(document, ApiSpec | AsyncApiSpec):
        found = [(document.source.name, document.source.sha256)]
        found.extend(sorted((s.name, s.sha256) for s in document.files.values()))
        return found
    return [(document.source.name, document.source.sha256)]


class _Check:
    def __init__(self, root: str, loader: Loader, settings: CheckSettings) -> None:
        self.root = root
        self.loader = loader
        self.settings = settings
        self.cache = AnalysisCache(settings.cache_folder)
        self.report = Report(command="check")
        self.documents: list[Document] = []

    def cached(
        self,
        analysis: str,
        digest: str,
        inputs: list[tuple[str, str]],
        compute: Callable[[], list[Finding]],
    ) -> list[Finding]:
        key = AnalysisCache.key(analysis, digest, inputs)
        found = self.cache.get(key)
        if found is None:
            found = compute()
            self.cache.put(key, found)
        return found

    # ---- the whole run -------------------------------------------------------------------

    def targets(self) -> list[str]:
        if not Path(self.root).exists():
            raise InputError(
                self.root,
                "no such contracts tree (pass PATH, or set contracts: in apigov.yaml)",
            )
        return self.loader.expand([self.root])

    def replay_or_run(self) -> CheckResult:
        """A warm run where nothing changed reads every file's hash and one cache entry.

        The entry is keyed by the settings, the day, the base revision's commit and the name and
        hash of every contract file; it lists the other files the run read (`$ref` targets)
        with their hashes, which must still match.
        """
        targets = self.targets()
        hashes = [(display_name(t), self.file_hash(t)) for t in targets]
        key = AnalysisCache.key("run", self.run_digest(), hashes)
        stored = self.cache.get_value(key)
        replayed = self.replay(stored) if isinstance(stored, dict) else None
        if replayed is not None:
            self.cache.hits += 1
            return CheckResult(replayed, None, {}, self.cache, replayed=True)
        result = self.run(targets)
        self.cache.put_value(
            key,
            {
                "dependencies": self.dependencies(),
                "inputs": result.report.inputs,
                "rules": [_rule_to_dict(rule) for rule in result.report.rules.values()],
                "findings": [f.to_dict() for f in result.report.findings],
            },
        )
        return result

    def file_hash(self, path: str) -> str:
        return hashlib.sha256(read_file(path, self.loader.limits, display_name(path))).hexdigest()

    def run_digest(self) -> str:
        settings = self.settings
        day = settings.today or dt.datetime.now(dt.UTC).date()
        revision = ""
        if settings.base_ref is not None:
            # The base revision's content is in the result: key on the commit it names now.
            revision = _commit(Path(self.root), settings.base_ref)[1]
        return "\0".join(
            (
                _ruleset_digest(settings.ruleset),
                settings.policy_digest,
                settings.fleet.digest_text(),
                f"{settings.base_ref}@{revision}",
                day.isoformat(),
            )
        )

    def dependencies(self) -> list[list[str]]:
        """[path, hash] of every file a spec's `$ref`s reached (contract files are in the key)."""
        found: dict[str, str] = {}
        for document in self.documents:
            if isinstance(document, ApiSpec | AsyncApiSpec):
                for source in document.files.values():
                    if not source.key.startswith("git:"):
                        found[source.key] = source.sha256
        return [[path, sha] for path, sha in sorted(found.items())]

    def replay(self, stored: Mapping[str, Any]) -> Report | None:
        try:
            for path, sha in stored["dependencies"]:
                if not Path(path).is_file() or self.file_hash(path) != sha:
                    return None
            findings = [finding_from_dict(entry) for entry in stored["findings"]]
            inputs = [str(name) for name in stored["inputs"]]
            rules = [_rule_from_dict(entry) for entry in stored["rules"]]
        except (KeyError, TypeError, ValueError, InputError):
            # A damaged entry, or a dependency that cannot be read now: the full run decides.
            return None
        return Report(
            command="check",
            findings=findings,
            inputs=inputs,
            rules={rule.id: rule for rule in rules},
        )

    def run(self, targets: list[str] | None = None) -> CheckResult:
        targets = self.targets() if targets is None else targets
        documents = [self.loader.load(t) for t in targets]
        self.documents = documents
        self.report.inputs.extend(d.name for d in documents)
        invalid = self.validate(documents)
        specs = [d for d in documents if isinstance(d, ApiSpec) and d.source.key not in invalid]
        self.lint(specs)
        graph = build_graph(self.root, self.loader, exclude=invalid)
        verdicts = self.compat(graph)
        base_specs = self.diff(graph, specs) if self.settings.base_ref else {}
        if self.settings.environments:
            self.against_environments(graph)
        self.report.rules.update(fleet_rule_info(self.settings.fleet))
        self.report.findings.extend(
            fleet_findings(
                graph, self.settings.fleet, today=self.settings.today, base_specs=base_specs
            )
        )
        return CheckResult(self.report, graph, verdicts, self.cache)

    # ---- validation ----------------------------------------------------------------------

    def validate(self, documents: list[Document]) -> set[str]:
        """Validate every document; the keys of those with errors (later steps skip them)."""
        from apigov.spec.documents import validate_document

        invalid: set[str] = set()
        for document in documents:

            def compute(document: Document = document) -> list[Finding]:
                return validate_document(document)

            findings = self.cached("validate", "", _inputs(document), compute)
            findings = [replace(f, service=f.service or document.service) for f in findings]
            if any(f.level is Level.ERROR for f in findings):
                invalid.add(document.source.key)
            self.report.findings.extend(findings)
        return invalid

    # ---- lint ----------------------------------------------------------------------------

    def lint(self, specs: list[ApiSpec]) -> None:
        if not specs:
            return
        # Imported on use, like `apigov lint` does: the engine is not free to import.
        from apigov.lint.analyze import rule_info
        from apigov.lint.engine import Linter
        from apigov.lint.ruleset import load_ruleset

        ruleset = load_ruleset(self.settings.ruleset)
        # Reporters (SARIF) describe every rule a finding can come from.
        self.report.rules.update({name: rule_info(rule) for name, rule in ruleset.rules.items()})
        linters: list[Linter] = []
        ruleset_digest = _ruleset_digest(self.settings.ruleset)
        for spec in specs:

            def compute(spec: ApiSpec = spec) -> list[Finding]:
                if not linters:
                    linters.append(Linter(ruleset))
                return linters[0].lint(spec)

            self.report.findings.extend(self.cached("lint", ruleset_digest, _inputs(spec), compute))

    # ---- compatibility -------------------------------------------------------------------

    def compat(self, graph: FleetGraph) -> dict[tuple[str, str], Verdict]:
        verdicts: dict[tuple[str, str], Verdict] = {}
        for pact in graph.pacts:
            edge = (pact.consumer, pact.provider)
            provider = graph.services.get(pact.provider)
            spec = provider.spec if provider is not None else None
            events = provider.events if provider is not None else None
            if spec is None and events is None:
                verdicts.setdefault(edge, Verdict.UNCHECKED)
                continue
            findings = [
                _with_interaction(graph, pact, f) for f in self.pact_findings(pact, spec, events)
            ]
            self.report.findings.extend(findings)
            broken = any(f.level is Level.ERROR for f in findings)
            checked = events is not None or any(
                u.operation is not None for u in graph.uses_in(pact)
            )
            if broken:
                verdicts[edge] = Verdict.BROKEN
            elif verdicts.get(edge) is not Verdict.BROKEN:
                verdicts[edge] = Verdict.COMPATIBLE if checked else Verdict.UNCHECKED
        for use in graph.uses:
            verdicts.setdefault((use.consumer, use.provider), Verdict.UNCHECKED)
        return dict(sorted(verdicts.items()))

    def pact_findings(
        self, pact: PactFile, spec: ApiSpec | None, events: AsyncApiSpec | None
    ) -> list[Finding]:
        """HTTP interactions against the provider's OpenAPI document, messages against its
        AsyncAPI document; what one document cannot describe is left to the other."""
        from apigov.pact.asyncapi import check_message_compatibility
        from apigov.pact.compat import check_compatibility

        found: list[Finding] = []
        if spec is not None:

            def http(pact: PactFile = pact, spec: ApiSpec = spec) -> list[Finding]:
                return check_compatibility(pact, spec)

            checked = self.cached("compat", "", _inputs(pact) + _inputs(spec), http)
            found.extend(
                f for f in checked if events is None or f.id != "compat-interaction-not-checked"
            )
        if events is not None:

            def messages(pact: PactFile = pact, events: AsyncApiSpec = events) -> list[Finding]:
                return check_message_compatibility(pact, events)

            checked = self.cached("compat-messages", "", _inputs(pact) + _inputs(events), messages)
            # Both checks report what is wrong with the pact file itself: say it once.
            seen = set(found)
            found.extend(
                f
                for f in checked
                if (spec is None or f.id != "compat-interaction-not-checked") and f not in seen
            )
        return found

    # ---- breaking changes ----------------------------------------------------------------

    def diff(self, graph: FleetGraph, specs: list[ApiSpec]) -> dict[str, ApiSpec]:
        """Compare every spec changed since the base revision; their base versions by service."""
        from apigov.diff import run_diff

        revision = self.settings.base_ref
        assert revision is not None
        changed = _changed_since(Path(self.root), revision)
        here = git_top(Path.cwd())
        if here is None or here.resolve() != changed.top.resolve():
            # `REV:path` is read from the repository of the working folder (as everywhere in
            # apigov): another repository's revision would be compared silently.
            raise InputError(
                self.root, "with --base-ref, run apigov check from inside the repository holding it"
            )
        base_specs: dict[str, ApiSpec] = {}
        for spec in specs:
            relatives = [_relative(changed.top, s.key) for s in (spec.source, *spec.files.values())]
            if not any(r in changed.files for r in relatives if r is not None):
                continue
            relative = relatives[0]
            if relative is None or relative not in changed.at_base:
                continue  # a new spec: nothing to break
            base = self.loader.load(f"{revision}:{relative}")
            if not isinstance(base, ApiSpec):
                continue
            service = _service_name(graph, spec)
            base.service = spec.service
            if service is not None:
                base_specs[service] = base
            # The consumer-aware diff: each change names the interactions that use what changed.
            pacts = [p for p in graph.pacts if service is not None and p.provider == service]

            def compute(
                base: ApiSpec = base, spec: ApiSpec = spec, pacts: list[PactFile] = pacts
            ) -> list[Finding]:
                policy, day = self.settings.policy, self.settings.today
                return run_diff(base, spec, policy=policy, today=day, consumers=pacts).findings

            # Sunset and deprecation checks depend on the day, so the day is part of the key.
            day = self.settings.today or dt.datetime.now(dt.UTC).date()
            day_digest = f"{self.settings.policy_digest};{day.isoformat()}"
            inputs = _inputs(base) + _inputs(spec)
            inputs.extend(pair for pact in pacts for pair in _inputs(pact))
            self.report.findings.extend(self.cached("diff", day_digest, inputs, compute))
        return base_specs

    # ---- breaking changes against what is deployed ---------------------------------------

    def against_environments(self, graph: FleetGraph) -> None:
        """Diff every spec with the version of its service live in each environment."""
        import tempfile

        from apigov.diff import run_diff
        from apigov.registry import open_registry
        from apigov.registry.open import registry_location
        from apigov.registry.refs import materialise

        location = registry_location(self.settings.registry)
        if "://" not in location and not Path(location).is_file():
            # Asking what is deployed must not create an empty registry file as a side effect.
            raise InputError(
                location, "no registry here (name one with --registry or APIGOV_REGISTRY)"
            )
        registry = open_registry(location)
        try:
            for environment in self.settings.environments:
                if not registry.has_environment(environment):
                    raise InputError(location, f"the registry has no environment {environment!r}")
            with tempfile.TemporaryDirectory(prefix="apigov-check-") as folder:
                for environment in self.settings.environments:
                    for service in graph.services.values():
                        if service.spec is None:
                            continue
                        live = registry.live_versions(environment, [service.name])
                        if len({version.number for version in live}) != 1:
                            continue  # not deployed there (or several: name one with diff)
                        ref = f"{service.name}@{environment}"
                        into = Path(folder) / environment
                        root = materialise(ref, registry, into / service.name)
                        base = Loader(self.loader.limits, root=into).load(str(root))
                        if not isinstance(base, ApiSpec):
                            continue
                        base.service = service.spec.service
                        self.report.inputs.append(f"{ref}:{root.name}")
                        pacts = [p for p in graph.pacts if p.provider == service.name]

                        def compute(
                            base: ApiSpec = base,
                            spec: ApiSpec = service.spec,
                            pacts: list[PactFile] = pacts,
                        ) -> list[Finding]:
                            settings = self.settings
                            return run_diff(
                                base,
                                spec,
                                policy=settings.policy,
                                today=settings.today,
                                consumers=pacts,
                            ).findings

                        # Keyed by content, not by the temporary file names.
                        inputs = [(ref, base.source.sha256)]
                        inputs.extend(sorted((ref, s.sha256) for s in base.files.values()))
                        inputs.extend(_inputs(service.spec))
                        inputs.extend(pair for pact in pacts for pair in _inputs(pact))
                        day = self.settings.today or dt.datetime.now(dt.UTC).date()
                        digest = f"{self.settings.policy_digest};{day.isoformat()}"
                        findings = self.cached("diff-deployed", digest, inputs, compute)
                        self.report.findings.extend(
                            _relabel(f, root.parent, into / service.name, f"{ref}:")
                            for f in findings
                        )
        finally:
            registry.close()


def _relabel(finding: Finding, folder: Path, written: Path, label: str) -> Finding:
    """Findings in a materialised copy name the registry ref and the published path
    (`orders@production:openapi.yaml`, `orders@production:../_shared/common.yaml`), not a
    temporary file."""
    location = finding.location
    if location is None:
        return finding
    path = Path(location.file).resolve()
    if not path.is_relative_to(written.resolve()):
        return finding
    relative = Path(os.path.relpath(path, folder.resolve())).as_posix()
    return replace(finding, location=replace(location, file=label + relative))


def _service_name(graph: FleetGraph, spec: ApiSpec) -> str | None:
    for service in graph.services.values():
        if service.spec is spec:
            return service.name
    return spec.service


def _with_interaction(graph: FleetGraph, pact: PactFile, finding: Finding) -> Finding:
    """Name the interaction and the edge in a compatibility finding's message."""
    if finding.location is None:
        return finding
    use = graph.interaction_at(pact, finding.location.pointer)
    if use is None:
        return finding
    named = "" if use.interaction in finding.message else f", interaction {use.interaction}"
    return replace(
        finding,
        message=f"{use.consumer} -> {use.provider}{named}: {finding.message}",
        service=use.provider,
    )


def _rule_to_dict(rule: RuleInfo) -> dict[str, Any]:
    level = rule.level.value if rule.level is not None else None
    return {
        "id": rule.id,
        "description": rule.description,
        "help_uri": rule.help_uri,
        "level": level,
    }


def _rule_from_dict(data: Mapping[str, Any]) -> RuleInfo:
    level = data.get("level")
    return RuleInfo(
        id=str(data["id"]),
        description=str(data.get("description") or ""),
        help_uri=data.get("help_uri"),
        level=Level(level) if level else None,
    )


def _ruleset_digest(reference: str) -> str:
    """The ruleset's identity for cache keys: a built-in's name, or the file's content."""
    if reference.startswith(BUILTIN_PREFIXES) and not Path(reference).exists():
        return f"{reference}@{__version__}"
    try:
        return reference + ":" + hashlib.sha256(Path(reference).read_bytes()).hexdigest()
    except OSError:
        return reference


def policy_digest(policy_file: Path | None) -> str:
    if policy_file is None:
        return ""
    try:
        return hashlib.sha256(policy_file.read_bytes()).hexdigest()
    except OSError:
        return str(policy_file)


class _Changes(Struct, frozen=True):
    top: Path
    files: frozenset[str]
    """Paths (relative to the top of the work tree) that differ from the base revision."""
    at_base: frozenset[str]
    """Paths that exist at the base revision."""


def _git(top: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(top), *args], capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InputError(str(top), f"cannot run git: {error}") from None
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(str(top), f"git {args[0]} failed: {lines[-1] if lines else ''}")
    return result.stdout.decode("utf-8", "replace")


def _commit(tree: Path, revision: str) -> tuple[Path, str]:
    """The top of the work tree holding `tree`, and the commit `revision` names."""
    top = git_top(tree.resolve())
    if top is None:
        raise InputError(str(tree), "not inside a git repository, cannot compare with --base-ref")
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except InputError:
        raise InputError(revision, "not a git revision") from None
    return top, commit.strip()


def _changed_since(tree: Path, revision: str) -> _Changes:
    top, commit = _commit(tree, revision)
    changed = _git(top, "diff", "--name-only", "--no-renames", commit, "--")
    existing = _git(top, "ls-tree", "-r", "--name-only", commit)
    return _Changes(top, _lines(changed), _lines(existing))


def _lines(text: str) -> frozenset[str]:
    return frozenset(line for line in text.splitlines() if line)


def _relative(top: Path, key: str) -> str | None:
    if key.startswith("git:"):
        return None
    try:
        return Path(key).resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None


def resolve_settings(
    config: Config,
    loader: Loader,
    *,
    ruleset: str | None = None,
    policy: Path | None = None,
    base_ref: str | None = None,
    use_cache: bool = True,
    against: tuple[str, ...] = (),
    registry: str | None = None,
) -> CheckSettings:
    """Command-line options first, then apigov.yaml (`lint`, `diff`, `fleet`), then defaults."""
    from apigov.lint.analyze import discover_ruleset

    configured_policy = config.section("diff").get("policy")
    if policy is None and isinstance(configured_policy, str):
        policy = config.path(configured_policy)
    rules: Policy | None = None
    if policy is not None:
        from apigov.diff import policy_from_data

        rules = policy_from_data(loader.source(str(policy)).data, str(policy))
    fleet = FleetSettings()
    fleet_section = config.section("fleet")
    rules_file = fleet_section.get("rules")
    if isinstance(rules_file, str):
        path = config.path(rules_file)
        fleet = fleet.merged(loader.source(str(path)).data, rules_file)
    if fleet_section:
        fleet = fleet.merged(fleet_section, f"{config.name}: fleet")
    return CheckSettings(
        ruleset=discover_ruleset(ruleset, config),
        policy=rules,
        policy_digest=policy_digest(policy),
        fleet=fleet,
        base_ref=base_ref,
        cache_folder=config.root / CACHE_FOLDER if use_cache else None,
        environments=against or _configured_environments(config),
        registry=registry or config.registry,
    )


def _configured_environments(config: Config) -> tuple[str, ...]:
    """`check.against` in apigov.yaml: environments every check diffs against."""
    against = config.section("check").get("against", [])
    if not isinstance(against, list) or not all(isinstance(e, str) and e for e in against):
        raise InputError(config.name, "check.against: must be a list of environment names")
    return tuple(against)
