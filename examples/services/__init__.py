"""The example fleet's providers: one FastAPI app per service, in-memory, spec-checked.

Each module has `create_app(provider_states: bool = False)`; `SERVICES` maps service names to
those modules. Requests are checked against the service's own contract in contracts/ (see
`_contract.py`), so each provider accepts exactly what its OpenAPI document promises.
"""

from __future__ import annotations

SERVICES = ("orders", "payments", "inventory", "shipping", "notifications")
