"""Benchmark: ``apigov compat`` against PactFlow's ``@pactflow/swagger-mock-validator``.

    python bench/compat.py [--runs N] [--interactions N] [--distinct] [--peer-timeout S]

One pact of ``--interactions`` (10,000) interactions generated from the corpus's Adyen
Checkout v71 spec (3.1, 28 operations): every operation in turn, with path parameters, required
query parameters and headers, credentials, a request body built from the request schema and an
expected response body built from the first 2xx response schema (every property down to a
depth limit, values from enums, formats and bounds). Interactions of one operation then have
equal bodies, as in many generated pacts, and apigov checks each distinct body once;
``--distinct`` writes the interaction's number into every free-text string instead, so every
body differs and nothing is reused. Both tools check the same pact against the
same spec in the same harness round (``bench/harness.py``); the ratio is peer median / apigov
median (> 1: apigov is faster). apigov's phases (spec, pact load, check, report) and its peak
memory are also measured in process, in a subprocess. Results go to
``bench/results/compat-<timestamp>.json``.

The peer is installed on demand with npm into ``bench/.peers/npm`` (the prefix
``bench/peers.py`` uses); it is deprecated upstream in favour of openapi-pact-comparator, which
is not published as a command line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import (
    DEFAULT_RUNS,
    INSTALLED_BYTECODE,
    Tool,
    format_table,
    run_benchmark,
    save_results,
)
from peers import NPM_PREFIX, Peer, npm_install

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
ADYEN = REPO.parent / "shared" / "corpus" / "specs" / "adyen" / "CheckoutService-v71.json"
PEER_PACKAGE = "@pactflow/swagger-mock-validator"
DEFAULT_INTERACTIONS = 10_000
METHODS = ("get", "put", "post", "delete", "patch")
FORMAT_SAMPLES = {
    "date-time": "2025-11-20T10:15:00Z",
    "date": "2025-11-20",
    "uuid": "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11",
    "email": "ada@example.com",
    "uri": "https://example.com/return",
    "url": "https://example.com/return",
}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- generating the pact (runs in a subprocess: the harness process stays small) ---------


class Sampler:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.salt = ""
        """Appended to free-text strings (no format, enum or pattern): `--distinct`."""

    def deref(self, node: Any) -> Any:
        for _ in range(32):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            target: Any = self.document
            for part in node["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def value(self, schema: Any, depth: int = 0, *, all_properties: bool) -> Any:
        schema = self.deref(schema)
        if not isinstance(schema, dict):
            return "x"
        if schema.get("enum"):
            return schema["enum"][0]
        if "const" in schema:
            return schema["const"]
        for combiner in ("oneOf", "anyOf"):
            if isinstance(schema.get(combiner), list) and schema[combiner]:
                return self.value(schema[combiner][0], depth + 1, all_properties=all_properties)
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for member in schema["allOf"]:
                part = self.value(member, depth + 1, all_properties=all_properties)
                if isinstance(part, dict):
                    merged.update(part)
            return merged
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        if kind == "object" or "properties" in schema:
            if depth > 3:
                return {}
            required = set(schema.get("required") or [])
            return {
                name: self.value(sub, depth + 1, all_properties=all_properties)
                for name, sub in (schema.get("properties") or {}).items()
                if all_properties or name in required
            }
        if kind == "array":
            if depth > 3:
                return []
            return [self.value(schema.get("items"), depth + 1, all_properties=all_properties)]
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return float(schema.get("minimum", 1.5))
        if kind == "boolean":
            return True
        text = FORMAT_SAMPLES.get(str(schema.get("format")), "")
        if not text:
            text = "sample" if "pattern" in schema else f"sample{self.salt}"
        minimum = schema.get("minLength")
        if isinstance(minimum, int) and len(text) < minimum:
            text = text + "x" * (minimum - len(text))
        maximum = schema.get("maxLength")
        return text[:maximum] if isinstance(maximum, int) else text


def generate_pact(spec_path: Path, count: int, *, distinct: bool = False) -> dict[str, Any]:
    document = json.loads(spec_path.read_text(encoding="utf-8"))
    sampler = Sampler(document)
    # Paths without the server's `/v71`: swagger-mock-validator does not strip a 3.x server
    # path, and both tools should do the full work on every interaction.
    base = ""
    operations = [
        (path, method, node)
        for path, item in document["paths"].items()
        for method, node in item.items()
        if method in METHODS
    ]
    interactions = []
    for number in range(count):
        path, method, operation = operations[number % len(operations)]
        sampler.salt = str(number) if distinct else ""
        request: dict[str, Any] = {
            "method": method.upper(),
            "headers": {"X-API-Key": "key", "Accept": "application/json"},
        }
        concrete = path
        query: dict[str, list[str]] = {}
        for raw in operation.get("parameters", []):
            parameter = sampler.deref(raw)
            sample = str(sampler.value(parameter.get("schema"), all_properties=False))
            if parameter["in"] == "path":
                concrete = concrete.replace("{" + parameter["name"] + "}", f"{sample}{number}")
            elif parameter.get("required") and parameter["in"] == "query":
                query[parameter["name"]] = [sample]
            elif parameter.get("required") and parameter["in"] == "header":
                request["headers"][parameter["name"]] = sample
        request["path"] = base + concrete
        if query:
            request["query"] = query
        body = sampler.deref(operation.get("requestBody"))
        if isinstance(body, dict) and "application/json" in body.get("content", {}):
            request["headers"]["Content-Type"] = "application/json"
            schema = body["content"]["application/json"].get("schema")
            request["body"] = sampler.value(schema, all_properties=False)
        status, documented = next(
            (
                (code, sampler.deref(r))
                for code, r in operation["responses"].items()
                if code.startswith("2")
            ),
            ("200", {}),
        )
        response: dict[str, Any] = {"status": int(status)}
        content = documented.get("content", {}) if isinstance(documented, dict) else {}
        if "application/json" in content:
            response["headers"] = {"Content-Type": "application/json"}
            schema = content["application/json"].get("schema")
            response["body"] = sampler.value(schema, all_properties=True)
        interactions.append(
            {
                "description": f"{method.upper()} {path} #{number}",
                "request": request,
                "response": response,
            }
        )
    return {
        "consumer": {"name": "bench-consumer"},
        "provider": {"name": "adyen-checkout"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


def without_discriminators(node: Any) -> Any:
    """swagger-mock-validator stops at Adyen's discriminators ("mapping is not supported",
    "requires oneOf keyword"): both tools get the spec without them, so both do the same work
    on the same input."""
    if isinstance(node, dict):
        return {
            key: without_discriminators(value)
            for key, value in node.items()
            if key != "discriminator"
        }
    if isinstance(node, list):
        return [without_discriminators(item) for item in node]
    return node


def prepare(count: int, folder: Path, *, distinct: bool = False) -> tuple[Path, Path]:
    """The spec (discriminators removed) and the pact, made in a subprocess."""
    pact = folder / f"adyen-{count}{'-distinct' if distinct else ''}.json"
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--generate",
            str(pact),
            "--interactions",
            str(count),
            *(["--distinct"] if distinct else []),
        ],
        check=True,
    )
    return folder / ADYEN.name, pact


# ---- the tools ---------------------------------------------------------------------------


def swagger_mock_validator(prefix: Path = NPM_PREFIX) -> Peer:
    name = "swagger-mock-validator"
    binary = prefix / "node_modules" / ".bin" / "swagger-mock-validator"
    if not binary.exists():
        failed = npm_install(prefix, PEER_PACKAGE)
        if failed is not None:
            return Peer(name, (), skipped=failed)
    manifest = prefix / "node_modules" / "@pactflow" / "swagger-mock-validator" / "package.json"
    version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    return Peer(name, (str(binary),), version=version)


def peer_verdict(exit_code: int, stdout: bytes, stderr: bytes) -> str | None:
    """A run counts only when the peer gave a verdict (it crashes on some specs, exit 1).

    Its verdict is the sentence `Mock file "..." is [not] compatible with spec file "..."`;
    an incompatible pact also ends in a stack trace (that is how it exits 1), a crash ends in
    one without the sentence.
    """
    output = stdout + stderr
    if b"compatible with spec file" not in output:
        first = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()[:1]
        return f"no verdict: {first[0][:120] if first else 'no output'}"
    return None


def tools_for(spec: Path, pact: Path, timeout: float) -> list[Tool]:
    peer = swagger_mock_validator()
    return [
        Tool(
            "apigov",
            [
                sys.executable,
                "-m",
                "apigov",
                "compat",
                str(pact),
                "--spec",
                str(spec),
                "--format",
                "json",
            ],
            ok_exit_codes=frozenset({0, 1}),
            env=INSTALLED_BYTECODE,
        ),
        Tool(
            peer.name,
            [*peer.argv_prefix, str(spec), str(pact)],
            timeout=timeout,
            ok_exit_codes=frozenset({0, 1}),
            check=peer_verdict,
            skipped=peer.skipped,
            version=peer.version,
        ),
    ]


def engine_seconds(spec: Path, pact: Path) -> dict[str, Any]:
    """apigov's own time in a subprocess, phase by phase, as the command runs them (the cycle
    collector paused): loading the spec, loading the pact, the check (reading the pact's
    interactions, checking them, locating the findings) and writing the JSON report."""
    code = (
        "import gc,time,json,collections,resource;gc.disable();t0=time.perf_counter();"
        "from apigov.spec.loader import Loader;from apigov.pact.compat import check_compatibility;"
        "from apigov.findings import Report;from apigov.report import render;"
        f"l=Loader();s=l.load({str(spec)!r});t1=time.perf_counter();"
        f"p=l.load({str(pact)!r});t2=time.perf_counter();"
        "f=check_compatibility(p,s);t3=time.perf_counter();"
        "render(Report('compat',f),'json');t4=time.perf_counter();"
        "c=collections.Counter(x.id for x in f);"
        "print(json.dumps({'spec':t1-t0,'load':t2-t1,'check':t3-t2,'report':t4-t3,"
        "'peak_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024,'findings':dict(c)}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--interactions", type=int, default=DEFAULT_INTERACTIONS)
    parser.add_argument(
        "--distinct", action="store_true", help="every interaction's bodies differ (no reuse)"
    )
    parser.add_argument("--peer-timeout", type=float, default=300.0)
    parser.add_argument("--no-warmup", action="store_true", help="skip the warm-up runs")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate is not None:
        # Pretty-printed, as pact libraries write them (and so findings have short lines).
        pact = generate_pact(ADYEN, args.interactions, distinct=args.distinct)
        args.generate.write_text(json.dumps(pact, indent=2))
        spec = without_discriminators(json.loads(ADYEN.read_text(encoding="utf-8")))
        (args.generate.parent / ADYEN.name).write_text(json.dumps(spec, indent=2))
        return 0
    with tempfile.TemporaryDirectory(prefix="apigov-bench-compat-") as temporary:
        started = time.perf_counter()
        spec, pact = prepare(args.interactions, Path(temporary), distinct=args.distinct)
        say(
            f"generated {args.interactions:,} interactions in {time.perf_counter() - started:.1f} s"
        )
        engine = engine_seconds(spec, pact)
        say(
            f"apigov in-process: imports and spec {engine['spec']:.2f} s, pact load "
            f"{engine['load']:.2f} s, check {engine['check']:.2f} s, report "
            f"{engine['report']:.2f} s, peak {engine['peak_mb']:.0f} MB"
        )
        bench = run_benchmark(
            "compat",
            tools_for(spec, pact, args.peer_timeout),
            runs=args.runs,
            warmup=not args.no_warmup,
            input_label=f"{spec.name} + {args.interactions:,} interactions"
            + (" (distinct bodies)" if args.distinct else ""),
            progress=say,
        )
        bench.extra["engine"] = engine
        print(format_table(bench))
        path = save_results(
            "compat",
            [bench],
            extra={"interactions": args.interactions, "distinct": args.distinct},
        )
        say(f"results: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
