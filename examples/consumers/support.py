"""What the consumer tests share: where pacts are written, matchers, pact-python set-up.

Pacts go to `$APIGOV_PACT_DIR/<consumer>/pacts/<consumer>-<provider>.json`; without the variable,
straight into the repository's contracts/ (what `make pacts` does).
"""

from __future__ import annotations

import os
from pathlib import Path

# The Rust core makes a usage-tracking DNS lookup unless told not to; firewalled CI hangs on it.
os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

from pact import Pact
from pact.match.matcher import GenericMatcher

REPO = Path(__file__).resolve().parents[2]
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZXJ2aWNlIn0.c2lnbmF0dXJl"
"""The service token every example consumer sends (a placeholder JWT; providers check the form)."""

BEARER = r"^Bearer [A-Za-z0-9._~+/=-]+$"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
DATETIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ssXXX"


def pact_root() -> Path:
    return Path(os.environ.get("APIGOV_PACT_DIR") or REPO / "contracts")


class PactWriter:
    """The pact file of one consumer-provider pair, written interaction by interaction.

    A pact's mock server expects every interaction registered on it, so each test declares its
    own interactions on its own `Pact` (`new()`), and once its client call matched, merges them
    into the file (`write()`). The file is emptied when the writer is made, once per module run.
    """

    def __init__(self, consumer: str, provider: str, specification: str) -> None:
        self.consumer = consumer
        self.provider = provider
        self.specification = specification
        self.folder = pact_root() / consumer / "pacts"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)

    @property
    def path(self) -> Path:
        return self.folder / f"{self.consumer}-{self.provider}.json"

    def new(self) -> Pact:
        return Pact(self.consumer, self.provider).with_specification(self.specification)

    def write(self, pact: Pact) -> None:
        pact.write_file(self.folder, overwrite=False)


def datetime(value: str) -> GenericMatcher[str]:
    """An ISO 8601 date-time with offset, as pact-jvm and pact-js write it (`datetime` matcher).

    pact-python's own `match.datetime` writes the older `timestamp` matcher; the fleet's pacts
    use `datetime`, which the Pact V3/V4 specification names.
    """
    # pact-python's type hints list no "datetime" matcher, but its Rust core writes it as is.
    return GenericMatcher("datetime", value=value, format=DATETIME_FORMAT)  # type: ignore[arg-type]


def date(value: str) -> GenericMatcher[str]:
    """An ISO 8601 calendar date (`date` matcher, format yyyy-MM-dd)."""
    return GenericMatcher("date", value=value, format="yyyy-MM-dd")
