"""Consumer version selectors: which pacts a provider verifies (the Broker's "for-verification").

Pure functions over what the registry holds: every pact held with the provider (oldest first)
and the consumer versions live in each environment. A selector picks consumer versions; the pacts
they hold are deduplicated by content, since verifying one content twice proves nothing new, and
each remembers every selector that picked it (the verifier prints why a pact is verified).

Semantics follow the Pact Broker's documentation of selectors:
- `mainBranch`: the latest version of each consumer on its main branch: the one the service
  named (`mainBranch` of the pacticipant, `apigov registry service set --main-branch`), else,
  like the Broker's automatic detection, `main` or `master`.
- `branch`: the latest version on that branch (every version on it with `latest: false`).
- `matchingBranch`: `branch` with the provider version's branch from the request.
- `deployed`, `released`, `deployedOrReleased`, optionally narrowed by `environment`; or
  `environment` alone (deployed or released there): every such version, not only the latest.
- `latest` alone: the latest version of each consumer.
- `tag`: every version with that tag; with `latest: true` the latest one of each consumer.
- `fallbackTag` (with `tag` and `latest: true`) and `fallbackBranch` (with `branch`): for a
  consumer with no version carrying the tag (on the branch), its latest version carrying the
  fallback tag (on the fallback branch), as the Broker does, one consumer at a time.
- `consumer` narrows any of them to one consumer; alone it means that consumer's latest version.
"""

from __future__ import annotations

from msgspec import Struct, field
from msgspec.structs import replace

from apigov.registry.domain import LiveVersion, PactPublication

MAIN_BRANCHES = ("main", "master")


class SelectorError(ValueError):
    """A selector apigov cannot answer or that contradicts itself."""


class Selector(Struct, frozen=True):
    consumer: str | None = None
    main_branch: bool = False
    branch: str | None = None
    matching_branch: bool = False
    tag: str | None = None
    latest: bool | None = None
    deployed: bool = False
    released: bool = False
    deployed_or_released: bool = False
    environment: str | None = None
    fallback_tag: str | None = None
    fallback_branch: str | None = None

    @property
    def wants_live(self) -> bool:
        return self.deployed or self.released or self.deployed_or_released or bool(self.environment)

    def describe(self, *, fell_back: bool = False) -> str:
        """The criterion in words, as the verifier shows it (`fell_back`: for a pact the
        fallback tag or branch picked)."""
        who = f"{self.consumer} " if self.consumer else ""
        if self.wants_live:
            how = (
                "deployed"
                if self.deployed
                else "released"
                if self.released
                else "deployed or released"
            )
            where = f" in {self.environment}" if self.environment else ""
            return f"{who}versions currently {how}{where}"
        every = self.latest is False
        fallback = "fell back to" if fell_back else "fall back to"
        if self.tag is not None and self.fallback_tag is not None:
            return f"latest {who}version tagged {self.tag!r} ({fallback} {self.fallback_tag!r})"
        if self.branch is not None and self.fallback_branch is not None:
            return (
                f"latest {who}version from branch {self.branch!r} "
                f"({fallback} {self.fallback_branch!r})"
            )
        if self.tag is not None:
            # For tags the Broker's default is every version: only `latest: true` narrows it.
            return f"{'latest' if self.latest else 'every'} {who}version tagged {self.tag!r}"
        if self.main_branch:
            return f"{'every' if every else 'latest'} {who}version from the main branch"
        if self.branch is not None:
            return f"{'every' if every else 'latest'} {who}version from branch {self.branch!r}"
        if self.matching_branch:
            return f"latest {who}version from the branch matching the provider's"
        return f"latest {who}version"


def parse_selector(data: dict[str, object]) -> Selector:
    """One selector from its JSON form; unknown or unsupported criteria are refused."""
    known = {
        "fallbackTag",
        "fallbackBranch",
        "consumer",
        "mainBranch",
        "branch",
        "matchingBranch",
        "tag",
        "latest",
        "deployed",
        "released",
        "deployedOrReleased",
        "environment",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise SelectorError(f"unknown selector criteria: {', '.join(unknown)}")

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise SelectorError(f"selector {key!r} must be a non-empty string")
        return value

    def flag(key: str) -> bool:
        value = data.get(key)
        if value is None:
            return False
        if value is not True:
            raise SelectorError(f"selector {key!r} can only be true")
        return True

    latest = data.get("latest")
    if latest is not None and not isinstance(latest, bool):
        raise SelectorError("selector 'latest' must be true or false")
    selector = Selector(
        consumer=text("consumer"),
        main_branch=flag("mainBranch"),
        branch=text("branch"),
        matching_branch=flag("matchingBranch"),
        tag=text("tag"),
        latest=latest,
        deployed=flag("deployed"),
        released=flag("released"),
        deployed_or_released=flag("deployedOrReleased"),
        environment=text("environment"),
        fallback_tag=text("fallbackTag"),
        fallback_branch=text("fallbackBranch"),
    )
    # As the Broker's documentation says: a fallback tag only for the latest tagged version, a
    # fallback branch only for a branch (whose latest version is meant).
    if selector.fallback_tag is not None and (selector.tag is None or selector.latest is not True):
        raise SelectorError("'fallbackTag' needs 'tag' and 'latest': true")
    if selector.fallback_branch is not None and (
        selector.branch is None or selector.latest is False
    ):
        raise SelectorError("'fallbackBranch' needs 'branch' (and picks its latest version)")
    branches = sum(
        [
            selector.main_branch,
            selector.branch is not None,
            selector.matching_branch,
            selector.tag is not None,
        ]
    )
    if branches > 1 or (branches and selector.wants_live):
        raise SelectorError(
            "a selector picks versions by one criterion: a branch, or where they are live"
        )
    if selector.wants_live and selector.latest is not None:
        raise SelectorError("'latest' does not combine with deployed/released/environment")
    return selector


class SelectedPact(Struct):
    """One pact content to verify, and why."""

    publication: PactPublication  # the latest consumer version holding this content
    consumer_versions: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def select_pacts(
    publications: list[PactPublication],
    live: dict[str, list[LiveVersion]],
    selectors: list[Selector],
    provider_branch: str | None = None,
) -> list[SelectedPact]:
    """The pacts the selectors pick, one per content, in the order first picked.

    `publications` is every pact held with the provider, oldest first; `live` maps each
    environment to the consumer versions live there (deployed or released).
    """
    chosen: dict[str, SelectedPact] = {}
    position = {id(p): i for i, p in enumerate(publications)}
    for selector in selectors:
        for publication, fell_back in _pick_with_fallback(
            publications, live, selector, provider_branch
        ):
            entry = chosen.setdefault(publication.sha256, SelectedPact(publication))
            # Later (newer) versions holding the same content describe it best.
            if position[id(publication)] > position[id(entry.publication)]:
                entry.publication = publication
            label = f"{publication.consumer}@{publication.consumer_version}"
            if label not in entry.consumer_versions:
                entry.consumer_versions.append(label)
            reason = selector.describe(fell_back=fell_back)
            if reason not in entry.reasons:
                entry.reasons.append(reason)
    return list(chosen.values())


def _pick_with_fallback(
    publications: list[PactPublication],
    live: dict[str, list[LiveVersion]],
    selector: Selector,
    provider_branch: str | None,
) -> list[tuple[PactPublication, bool]]:
    """What the selector picks, each with whether it came from the fallback: the fallback
    selector answers for each consumer the selector found nothing for."""
    picked = _pick(publications, live, selector, provider_branch)
    if selector.fallback_tag is None and selector.fallback_branch is None:
        return [(p, False) for p in picked]
    found = {p.consumer for p in picked}
    fallback = replace(
        selector,
        tag=selector.fallback_tag if selector.fallback_tag is not None else selector.tag,
        branch=selector.fallback_branch
        if selector.fallback_branch is not None
        else selector.branch,
        fallback_tag=None,
        fallback_branch=None,
    )
    extra = [
        p for p in _pick(publications, live, fallback, provider_branch) if p.consumer not in found
    ]
    return [(p, False) for p in picked] + [(p, True) for p in extra]


def _pick(
    publications: list[PactPublication],
    live: dict[str, list[LiveVersion]],
    selector: Selector,
    provider_branch: str | None,
) -> list[PactPublication]:
    candidates = [
        p for p in publications if selector.consumer is None or p.consumer == selector.consumer
    ]
    if selector.wants_live:
        environments = [selector.environment] if selector.environment else sorted(live)
        wanted: set[tuple[str, str]] = set()
        for environment in environments:
            for version in live.get(environment, []):
                if selector.deployed and version.via != "deployed":
                    continue
                if selector.released and version.via != "released":
                    continue
                wanted.add((version.service, version.number))
        return [p for p in candidates if (p.consumer, p.consumer_version) in wanted]
    if selector.tag is not None:
        tagged = [p for p in candidates if selector.tag in p.tags]
        return _latest_per_consumer(tagged) if selector.latest else tagged
    if selector.main_branch:
        candidates = [
            p
            for p in candidates
            if (p.branch == p.main_branch if p.main_branch else p.branch in MAIN_BRANCHES)
        ]
    elif selector.branch is not None:
        candidates = [p for p in candidates if p.branch == selector.branch]
    elif selector.matching_branch:
        if provider_branch is None:
            raise SelectorError("'matchingBranch' needs the request's providerVersionBranch")
        candidates = [p for p in candidates if p.branch == provider_branch]
    if selector.latest is False:
        return candidates
    return _latest_per_consumer(candidates)


def _latest_per_consumer(candidates: list[PactPublication]) -> list[PactPublication]:
    """Every pact of each consumer's newest version among the candidates (oldest-first input)."""
    newest: dict[str, str] = {}
    for publication in candidates:
        newest[publication.consumer] = publication.consumer_version
    return [p for p in candidates if newest[p.consumer] == p.consumer_version]
