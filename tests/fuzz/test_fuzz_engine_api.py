"""What apigov relies on in schemathesis's engine, which is not its public API.

schemathesis is pinned to one minor version in pyproject.toml. When an upgrade breaks any of
these, this file fails with the name of what moved, before the fuzz runs start misbehaving.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.transport import Response
from schemathesis.engine import StopReason, events, from_schema
from schemathesis.engine.recorder import CheckFailureInfo, CheckNode, ScenarioRecorder

from apigov.fuzz.driver import schemathesis_config
from apigov.fuzz.settings import FuzzSettings


def test_pinned_version() -> None:
    assert importlib.metadata.version("schemathesis").startswith("4.32.")


def field_names(cls: type) -> set[str]:
    names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    names |= set(getattr(cls, "__slots__", ()))
    names |= set(getattr(cls, "__annotations__", {}))
    return names


@pytest.mark.parametrize(
    ("cls", "needed"),
    [
        (events.ScenarioFinished, {"recorder"}),
        (events.NonFatalError, {"value", "info", "label", "related_to_operation"}),
        (events.EngineFinished, {"stop_reason"}),
        (events.FatalError, {"exception"}),
        (ScenarioRecorder, {"label", "cases", "checks", "interactions"}),
        (CheckNode, {"name", "failure_info"}),
        (CheckFailureInfo, {"code_sample", "failure"}),
        (Response, {"status_code", "content", "content_size"}),
    ],
)
def test_event_and_recorder_fields(cls: type, needed: set[str]) -> None:
    missing = needed - field_names(cls)
    assert not missing, f"{cls.__name__} lost {sorted(missing)}"


def test_events_and_entry_points_exist() -> None:
    assert isinstance(events.Interrupted, type)
    assert StopReason.COMPLETED.value == "completed"
    assert callable(from_schema)
    assert callable(schemathesis.openapi.from_dict)
    assert callable(schemathesis.hooks.unregister)
    assert isinstance(StopReason.MAX_TIME.value, str)


def test_global_before_call_hook_registers_and_unregisters() -> None:
    def before_call(context: object, case: object, kwargs: dict[str, object]) -> None:
        return None

    schemathesis.hook(before_call)
    try:
        assert before_call in schemathesis.hooks.GLOBAL_HOOK_DISPATCHER.get_all_by_name(
            "before_call"
        )
    finally:
        schemathesis.hooks.unregister(before_call)
    assert before_call not in schemathesis.hooks.GLOBAL_HOOK_DISPATCHER.get_all_by_name(
        "before_call"
    )


def test_include_by_operation_name() -> None:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/b": {"delete": {"responses": {"204": {"description": "gone"}}}},
        },
    }
    schema = schemathesis.openapi.from_dict(document).include(name=["GET /a"])
    labels = [result.ok().label for result in schema.get_all_operations()]
    assert labels == ["GET /a"]


def test_every_option_maps_to_a_known_config_key() -> None:
    # SchemathesisConfig.from_dict rejects unknown keys, so a renamed key fails here.
    settings = FuzzSettings(
        base_url="http://127.0.0.1:1",
        seed=5,
        rate_limit="10/s",
        headers={"X-Test": "1"},
        basic_auth=("user", "secret"),
        safe=True,
        phases=("coverage", "stateful"),
    )
    config = SchemathesisConfig.from_dict(schemathesis_config(settings, 5))
    project = config.projects.get_default()
    assert project.base_url == "http://127.0.0.1:1"
    assert config.seed == 5
    assert project.phases.coverage.enabled
    assert not project.phases.fuzzing.enabled
    assert project.generation.max_examples == 100
