"""Differential test: iterable_sim against RudderStack's own Iterable destination code (the oracle).

Run by hand from the project root (needs node 20/22 and ../shared/rudderstack):

    .venv/bin/python tools/difftest/difftest.py --events 100000 --router-calls 2000
    .venv/bin/python tools/difftest/difftest.py --seed 1234 --events 5000 --router-calls 50 --show 5
    .venv/bin/python tools/difftest/difftest.py --rudderstack v1.106.1 --events 20000 --router-calls 400

It generates events, destination Configs and router calls (generate.py), runs them through the
oracle (`rudderstack-iterable.cjs process|router`) and through iterable_sim (`map_event`, `route`),
compares the whole outputs (status, error text, and every request's method, URL, headers and body;
for the router every batch, in order, with its jobs), and prints "N identical, M different" per
mode with the first differences grouped by field.

Where RudderStack's JavaScript itself crashes (a TypeError), the oracle answers the error's text;
iterable_sim raises MappingError with status 500 and the same text. The oracle is a bundle whose
minifier renamed some variables (`message2`); those names are compared without the suffix.

`--rudderstack RELEASE` compares with that rudder-transformer release instead of the newest: its
oracle (Release.oracle under ../shared/rudderstack) against iterable_sim mapping with
Settings(rudderstack=RELEASE). The oracle's `endpointPath` is compared too: iterable_sim's requests
carry none, so each of the oracle's must be the request's path after /api/ on a release with the
rule endpoint_path (v1.108.0) and absent before it.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import gen_process_case, gen_router_call  # noqa: E402

import iterable_sim as its  # noqa: E402
from iterable_sim.checks.crosscheck import json_kind  # noqa: E402
from iterable_sim.mapping.jsvalues import UNDEFINED  # noqa: E402
from iterable_sim.mapping.request import endpoint_path  # noqa: E402
from iterable_sim.mapping.releases import LATEST, NEWEST, Release, known_list, resolve_release  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _shared_rudderstack() -> Path:
    """../shared/rudderstack of the project root (of a worktree too: the nearest ancestor holding one)."""
    for folder in ROOT.parents:
        if (folder / "shared" / "rudderstack").is_dir():
            return folder / "shared" / "rudderstack"
    return ROOT.parent / "shared" / "rudderstack"


RUDDERSTACK_DIR = Path(os.environ.get("ITERABLE_SIM_RUDDERSTACK", _shared_rudderstack()))
ORACLE = Path(os.environ.get("ITERABLE_SIM_ORACLE", RUDDERSTACK_DIR / "rudderstack-iterable.cjs"))
RELEASE: Release = NEWEST  # the release compared with: --rudderstack, or use_release()


def oracle_path(release: Release | str | None = None) -> Path:
    """The oracle of a known release (the newest: ORACLE, which ITERABLE_SIM_ORACLE may point elsewhere)."""
    chosen = resolve_release(release)[0] if release is not None else RELEASE
    return ORACLE if chosen.is_latest else RUDDERSTACK_DIR / chosen.oracle


def use_release(release: Release | str) -> Release:
    """Compare with `release` from now on (its oracle, Settings(rudderstack=release))."""
    global RELEASE
    RELEASE = resolve_release(release)[0]
    return RELEASE


def oracle_missing(release: Release | str | None = None) -> str | None:
    """Why the oracle (of `release`, default the one compared with) cannot run here, or None when it can."""
    oracle = oracle_path(release)
    if not oracle.exists():
        return f"RudderStack's oracle is not at {oracle}"
    if shutil.which("node") is None:
        return "node is not on PATH"
    return None


def run_oracle(mode: str, inputs: list[dict[str, Any]], jobs: int = 2) -> list[dict[str, Any]]:
    """The oracle's answer for each input line, in order."""
    feed = "".join(json.dumps(i, allow_nan=False) + "\n" for i in inputs)
    out = subprocess.run(["node", str(oracle_path()), mode, "--jobs", str(jobs)], input=feed, capture_output=True,
                         text=True, check=True, env={**os.environ, "TZ": "UTC"})
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    if len(answers) != len(inputs):
        raise RuntimeError(f"the oracle answered {len(answers)} lines for {len(inputs)}: {out.stderr[-500:]}")
    return answers


# ---------------------------------------------------------------- comparable views

_RENAMED = re.compile(r"\b([A-Za-z_$][\w$]*?)2\b")


def _crash_text(text: str) -> str:
    return _RENAMED.sub(r"\1", text)


def request_view(method: str, url: str, headers: dict[str, Any], body: Any) -> dict[str, Any]:
    return {"method": method.upper(), "url": url, "headers": dict(headers), "json": body}


def our_request(request: its.Request) -> dict[str, Any]:
    """A request as sent: its body through JSON, as Iterable would read it."""
    return request_view(request.method, request.url, dict(request.headers), json.loads(request.body_bytes()))


def their_request(request: dict[str, Any]) -> dict[str, Any]:
    view = request_view(request["method"], request["endpoint"], request["headers"], request.get("json", {}))
    url = request["endpoint"]
    ours = endpoint_path(its.Request(request["method"], url, {}, None), RELEASE) if isinstance(url, str) else None
    if request.get("endpointPath") != ours:  # shown as a difference of the request
        view["endpointPath"] = request.get("endpointPath")
    return view


def theirs_process(answer: dict[str, Any]) -> dict[str, Any]:
    if "crash" in answer:
        return {"status": 500, "error": _crash_text(answer["crash"]), "requests": []}
    status = answer["status"]
    view: dict[str, Any] = {"status": status if not isinstance(status, list) else status[0]}
    if "error" in answer:
        view["error"] = answer["error"]
    view["requests"] = [their_request(r) for r in answer["requests"]]
    return view


_SETTINGS: dict[str, its.Settings] = {}


def settings_for(config: dict[str, Any]) -> its.Settings:
    key = RELEASE.tag + json.dumps(config, sort_keys=True)
    settings = _SETTINGS.get(key)
    if settings is None:
        settings = _SETTINGS[key] = its.Settings.from_rudder(config, rudderstack=RELEASE.tag)
    return settings


def ours_process(case: dict[str, Any]) -> dict[str, Any]:
    settings = settings_for(case["config"])
    try:
        requests = its.map_event(case["message"], settings)
    except its.MappingError as err:
        return {"status": err.status, "error": str(err), "requests": []}
    return {"status": 200, "requests": [our_request(r) for r in requests]}


def theirs_router(answer: dict[str, Any]) -> list[dict[str, Any]]:
    if "crash" in answer or "invalid_input" in answer:
        return [{"crash": answer.get("crash") or answer.get("invalid_input")}]
    batches = []
    for b in answer["batches"]:
        view = {"jobs": list(b["metadata_ids"]), "batched": b["batched"], "status": b["statusCode"],
                "requests": [their_request(r) for r in b["requests"]]}
        if "error" in b:
            view["error"] = _crash_text(b["error"]) if b["statusCode"] == 500 else b["error"]
        batches.append(view)
    return batches


def ours_router(call: dict[str, Any]) -> list[dict[str, Any]]:
    jobs = [(e["metadata"]["jobId"], e["message"], settings_for(e["config"]), e["destination"].get("ID"),
             e["metadata"].get("userId", UNDEFINED)) for e in call["events"]]
    batches = []
    for b in its.route(jobs):
        view = {"jobs": list(b.job_ids), "batched": bool(b.batched), "status": b.status,
                "requests": [our_request(r) for r in b.requests]}
        if b.error is not None:
            view["error"] = b.error
        batches.append(view)
    return batches


# ---------------------------------------------------------------- differences

_INDEX_KEY = re.compile(r"0|[1-9][0-9]{0,9}")


def javascript_key_order(keys: list[str]) -> list[str]:
    """The order JSON.stringify writes an object's keys in: array indexes first, in numeric order."""
    indexes = sorted((k for k in keys if _INDEX_KEY.fullmatch(k) and int(k) < 2**32 - 1), key=int)
    return indexes + [k for k in keys if k not in set(indexes)]


def first_difference(expected: Any, actual: Any, path: str = "$",
                     index_key_order: list[str] | None = None) -> tuple[str, str] | None:
    """(path, what differs) of the first difference between two JSON values; None when equal.
    Types are strict (True is not 1); numbers compare by value (19 == 19.0). Where an object's keys
    differ only as JSON.stringify orders array-index keys ("7") and the deliberate difference is
    allowed (`index_key_order` a list), its path is noted there and the comparison goes on."""
    ke, ka = json_kind(expected), json_kind(actual)
    if ke != ka:
        return path, f"expected {ke} {_short(expected)}, got {ka} {_short(actual)}"
    if ke == "object":
        if list(expected) != list(actual) and index_key_order is not None \
                and javascript_key_order(list(actual)) == list(expected):
            index_key_order.append(path)
            actual = {key: actual[key] for key in expected}
        if list(expected) != list(actual):
            if set(expected) == set(actual):
                return path, f"key order: expected {list(expected)}, got {list(actual)}"
            return path, (f"missing keys {[k for k in expected if k not in actual]}, "
                          f"unexpected keys {[k for k in actual if k not in expected]}")
        for key in expected:
            found = first_difference(expected[key], actual[key], f"{path}.{key}", index_key_order)
            if found:
                return found
        return None
    if ke == "array":
        if len(expected) != len(actual):
            return path, f"expected {len(expected)} items, got {len(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(e, a, f"{path}[{i}]", index_key_order)
            if found:
                return found
        return None
    if ke == "number" and (isinstance(expected, float) or isinstance(actual, float)):
        equal = float(expected) == float(actual)  # JSON numbers: the same double
    else:
        equal = expected == actual
    if not equal:
        return path, f"expected {_short(expected)}, got {_short(actual)}"
    return None


def _short(value: Any, limit: int = 160) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


_INDEX = re.compile(r"\[\d+\]")


def field_group(path: str) -> str:
    """A difference's field, without list positions: $.requests[].json.items[].price."""
    return _INDEX.sub("[]", path)


def deliberate(case: Any) -> str | None:
    """The deliberate difference (docs/differences.md, "Where iterable_sim knowingly differs") a differing
    case falls under, or None. Each is recognised from the case, never from the outputs."""
    message = case.get("message") if isinstance(case, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("context"), dict):
        return None
    context = message["context"]
    if context.get("mappedToDestination"):
        traits = message.get("traits")
        if traits in (None, "") or traits != traits:  # not present: the context's traits are set instead
            traits = context.get("traits")
        if isinstance(traits, list):
            return "properties set on a list of traits (reverse-ETL users)"
    return None


class Tally:
    """Identical/different counts for one mode, and the differences grouped by field."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.identical = 0
        self.groups: dict[str, list[tuple[str, str, Any]]] = defaultdict(list)
        self.counts: Counter[str] = Counter()
        self.deliberate: Counter[str] = Counter()

    def add(self, case: Any, expected: Any, actual: Any, known: Any = None) -> None:
        reordered: list[str] = []
        found = first_difference(expected, actual, index_key_order=reordered)
        if found is None and reordered:
            self.deliberate["key order of array-index keys in passed-through objects"] += 1
            return
        if found is None:
            self.identical += 1
            return
        reason = deliberate(known if known is not None else case)
        if reason is not None:
            self.deliberate[reason] += 1
            return
        path, what = found
        group = field_group(path)
        self.counts[group] += 1
        if len(self.groups[group]) < 3:
            self.groups[group].append((path, what, case))

    @property
    def different(self) -> int:
        """Differences that are not deliberate."""
        return sum(self.counts.values())

    def report(self, show: int, out: Any = sys.stdout) -> None:
        print(f"{self.mode}: {self.identical:,} identical, {self.different + sum(self.deliberate.values()):,} "
              f"different", file=out)
        for reason, count in self.deliberate.most_common():
            print(f"  {count:>7,}  deliberate: {reason}", file=out)
        for group, count in self.counts.most_common():
            print(f"  {count:>7,}  {group}", file=out)
            for path, what, case in self.groups[group][:show]:
                print(f"             {path}: {what}", file=out)
                if show:
                    print(f"             case: {_short(case, 600)}", file=out)


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def process_cases(seed: int, count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for job in range(1, count + 1):
        yield gen_process_case(rng, job)


def router_calls(seed: int, count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed ^ 0x5EED)
    for _ in range(count):
        yield gen_router_call(rng)


def _js_int(text: str) -> int | float:
    value = int(text)
    return value if abs(value) <= 2**53 else float(value)


def as_javascript_reads_it(case: Any) -> Any:
    """The case as RudderStack's JSON.parse reads it: integers beyond 2**53 become the nearest double.
    (iterable_sim keeps a Python int exact; RudderStack never sees one.)"""
    return json.loads(json.dumps(case), parse_int=_js_int)


def compare_process(cases: list[dict[str, Any]], tally: Tally, jobs: int = 2) -> None:
    for case, answer in zip(cases, run_oracle("process", cases, jobs), strict=True):
        if "invalid_input" in answer:
            continue
        tally.add(case, theirs_process(answer), ours_process(as_javascript_reads_it(case)))


def compare_router(calls: list[dict[str, Any]], tally: Tally, jobs: int = 2) -> None:
    for call, answer in zip(calls, run_oracle("router", calls, jobs), strict=True):
        shown = {"events": len(call["events"]), "first": call["events"][:2]}
        expected, actual = theirs_router(answer), ours_router(as_javascript_reads_it(call))
        known = next((e for e in call["events"] if deliberate(e)), None) if expected != actual else None
        tally.add(shown, expected, actual, known)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="generated single events (processor)")
    parser.add_argument("--router-calls", type=int, default=200, help="generated router calls")
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh one, printed")
    parser.add_argument("--jobs", type=int, default=2, help="the oracle's worker threads")
    parser.add_argument("--show", type=int, default=1, help="example cases shown per field group")
    parser.add_argument("--rudderstack", default=LATEST, metavar="RELEASE",
                        help=f"the rudder-transformer release to compare with (default latest); known: {known_list()}")
    args = parser.parse_args(argv)
    use_release(args.rudderstack)
    missing = oracle_missing()
    if missing:
        print(f"difftest skipped: {missing}")
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"seed {seed}: {args.events:,} events, {args.router_calls:,} router calls; rudder-transformer {RELEASE}")
    started = time.perf_counter()
    process = Tally("processor")
    for chunk in chunks(process_cases(seed, args.events), 5000):
        compare_process(chunk, process, args.jobs)
    router = Tally("router")
    routed_events = 0
    for chunk in chunks(router_calls(seed, args.router_calls), 20):
        routed_events += sum(len(c["events"]) for c in chunk)
        compare_router(chunk, router, args.jobs)
    process.report(args.show)
    router.report(args.show)
    print(f"router calls held {routed_events:,} events; {time.perf_counter() - started:.0f} s")
    return 0 if process.different == 0 and router.different == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
