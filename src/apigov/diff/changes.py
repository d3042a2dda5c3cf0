"""`Change`: one difference between two specs, with a stable id, and its conversion to `Finding`."""

from __future__ import annotations

from msgspec import Struct, field
from msgspec.structs import replace

from apigov.findings import Finding, Level, Location
from apigov.spec.model import ApiSpec
from apigov.spec.sources import Source


class Place(Struct, frozen=True):
    """A node of one document: the JSON pointer and the file holding it (None: the root file)."""

    pointer: str
    source: Source | None = None


class Change(Struct, frozen=True):
    """One difference. `base`/`head` say where it is on each side (None when absent there).

    `touched` holds JSON pointers of the request/response elements involved, so a
    consumer-aware diff can tell which interactions use them: for schema changes the logical
    pointer inside the operation (through `$ref`s, e.g. `.../schema/items/properties/total`)
    and the pointer where the change is written; otherwise the changed node, on the head side
    (the base side for removals).
    """

    id: str
    level: Level
    message: str
    operation: str | None = None
    base: Place | None = None
    head: Place | None = None
    touched: tuple[str, ...] = field(default=())
    used_by: tuple[tuple[str, str], ...] = field(default=())
    """(consumer, interaction description) of every consumer interaction using what changed,
    filled by a consumer-aware diff."""

    @property
    def path(self) -> str | None:
        """The path part of `operation` ("GET /orders/{id}" -> "/orders/{id}")."""
        if self.operation is None:
            return None
        return self.operation.partition(" ")[2] or None

    def with_level(self, level: Level) -> Change:
        return replace(self, level=level)

    @property
    def consumers(self) -> tuple[str, ...]:
        """The consumers using what changed, in the order first seen."""
        return tuple(dict.fromkeys(consumer for consumer, _ in self.used_by))

    def with_usage(self, message: str) -> str:
        """`message` naming the consumers first and their interactions last:

            breaks billing (2 interactions), shipping (1): <message>; interactions: billing
            'a', 'b'; shipping 'c'

        (`may break` for warnings, `used by` for info.) Unchanged when no consumer uses it.
        """
        if not self.used_by:
            return message
        by_consumer: dict[str, list[str]] = {}
        for consumer, description in self.used_by:
            by_consumer.setdefault(consumer, []).append(repr(description))
        counts = []
        for index, (consumer, names) in enumerate(by_consumer.items()):
            noun = (" interaction" if len(names) == 1 else " interactions") if index == 0 else ""
            counts.append(f"{consumer} ({len(names)}{noun})")
        verb = {Level.ERROR: "breaks", Level.WARNING: "may break"}.get(self.level, "used by")
        named = "; ".join(
            f"{consumer} {', '.join(names)}" for consumer, names in by_consumer.items()
        )
        return f"{verb} {', '.join(counts)}: {message}; interactions: {named}"

    def to_finding(
        self,
        base: ApiSpec,
        head: ApiSpec,
        locations: dict[tuple[bool, str, int], Location] | None = None,
    ) -> Finding:
        """Points at the head document, or at the base document for what only exists there.

        `locations` remembers positions across findings: a change in a shared schema is
        reported once per operation, all at the same place.
        """
        location: Location | None
        if self.head is not None or self.base is not None:
            on_head = self.head is not None
            place = self.head if self.head is not None else self.base
            assert place is not None
            key = (on_head, place.pointer, id(place.source))
            location = locations.get(key) if locations is not None else None
            if location is None:
                spec = head if on_head else base
                location = spec.locate(place.pointer, place.source)
                if locations is not None:
                    locations[key] = location
        else:
            location = Location(head.name)
        return Finding(
            id=self.id,
            level=self.level,
            message=self.with_usage(self.message),
            location=location,
            service=head.service or base.service,
            operation=self.operation,
            consumers=self.consumers,
        )
