"""Every real-world corpus document loads, and apigov's verdict matches openapi-spec-validator's."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate as reference_validate
from openapi_spec_validator.readers import read_from_filename

from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from apigov.spec.validate import validate_spec
from helpers import CORPUS

pytestmark = pytest.mark.corpus

# Files that are fragments of a multi-file document, not documents of their own.
FRAGMENT_FOLDERS = (
    "digitalocean/specification/resources",
    "digitalocean/specification/shared",
    "petstore-separate/common",
)
FRAGMENT_NAMES = (
    "NewPet.yaml",
    "Pet.yaml",
    "parameters.yaml",
    "description.yml",
    "inference_description.yml",
)


def corpus_documents() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    found = []
    for path in sorted(CORPUS.rglob("*")):
        relative = path.relative_to(CORPUS).as_posix()
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        if any(folder in relative for folder in FRAGMENT_FOLDERS) or path.name in FRAGMENT_NAMES:
            continue
        if "digitalocean" in relative and path.name != "DigitalOcean-public.v2.yaml":
            continue
        found.append(path)
    return found


DOCUMENTS = corpus_documents()


def test_corpus_is_present() -> None:
    assert len(DOCUMENTS) >= 45, "../shared/corpus is missing or incomplete"


def reference_verdict(path: Path) -> bool:
    document, base_uri = read_from_filename(str(path))
    try:
        reference_validate(document, base_uri=base_uri)
    except Exception:
        return False
    return True


@pytest.mark.parametrize(
    "path", DOCUMENTS, ids=[p.relative_to(CORPUS).as_posix() for p in DOCUMENTS]
)
def test_verdict_matches_openapi_spec_validator(path: Path) -> None:
    loader = Loader(root=CORPUS)
    try:
        document = loader.load(str(path))
    except InputError as error:  # pragma: no cover - the message is the failure
        pytest.fail(f"apigov could not load a corpus document: {error}")
    assert isinstance(document, ApiSpec)
    findings = validate_spec(document)
    ours = not findings
    assert ours == reference_verdict(path), [f"{f.location}: {f.message}" for f in findings[:5]]
    for finding in findings:
        assert finding.location is not None and finding.location.line is not None, finding


def test_known_invalid_documents_have_the_known_problems() -> None:
    """The corpus README names openai's real errors: duplicate entries in `required`."""
    spec = Loader(root=CORPUS).load(str(CORPUS / "openai" / "openapi.yaml"))
    assert isinstance(spec, ApiSpec)
    messages = [f.message for f in validate_spec(spec)]
    assert any("has non-unique elements" in m for m in messages)
