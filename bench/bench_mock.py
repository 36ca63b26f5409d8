#!/usr/bin/env python3
"""Load benchmark of the mock Iterable (run by hand; prints figures, asserts nothing but "lost 0").

    python bench/bench_mock.py [--requests 20000] [--clients 2] [--concurrency 4] [--bulk-size 100]

1. in-process: events/track through `mock.handle`, and through `httpx.Client(transport=mock.transport())`;
2. over the real server: events/track and events/trackBulk from concurrent asyncio httpx clients in
   separate processes (so clients and server do not share one GIL), with requests/s, p50/p99
   latency, and a check that every event the mock accepted is stored in it.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from typing import Any

import httpx
import orjson

from iterable_sim.mock import MockIterable
from iterable_sim.mock.server import BackgroundServer

KEY = "bench-key"
HEADERS = {"api_key": KEY, "content-type": "application/json"}


def event(worker: int, i: int) -> dict[str, Any]:
    return {"email": f"user{(worker * 7919 + i) % 5000}@example.com", "eventName": "Product Viewed",
            "id": f"w{worker}-{i}", "createdAt": 1_700_000_000_000 + i,
            "dataFields": {"product_id": f"p{i % 300}", "price": 19.99, "quantity": i % 5 + 1, "currency": "USD"}}


def new_mock() -> MockIterable:
    mock = MockIterable(rate_limits=False, journal_limit=10_000)
    mock.add_api_key(KEY)
    return mock


def bench_in_process(n: int) -> None:
    mock = new_mock()
    url = "https://api.iterable.com/api/events/track"
    bodies = [orjson.dumps(event(0, i)) for i in range(n)]
    start = time.perf_counter()
    for body in bodies:
        mock.handle("POST", url, HEADERS, body)
    elapsed = time.perf_counter() - start
    print(f"in-process  mock.handle   events/track   {n / elapsed:>9,.0f} req/s  ({n:,} requests)")
    m = min(n, 20_000)
    with httpx.Client(transport=mock.transport()) as client:
        start = time.perf_counter()
        for body in bodies[:m]:
            client.post(url, headers=HEADERS, content=body)
        elapsed = time.perf_counter() - start
    print(f"in-process  httpx.Client   events/track   {m / elapsed:>9,.0f} req/s  ({m:,} requests)")


async def _client(url: str, endpoint: str, worker: int, count: int, concurrency: int,
                  bulk_size: int) -> tuple[list[float], int, int]:
    """Send `count` requests over `concurrency` connections; (latencies, accepted events, errors)."""
    latencies: list[float] = []
    accepted = errors = 0
    next_index = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        async def lane() -> None:
            nonlocal accepted, errors, next_index
            while next_index < count:
                i = next_index
                next_index += 1
                if endpoint == "events/track":
                    body = orjson.dumps(event(worker, i))
                else:
                    body = orjson.dumps({"events": [event(worker, i * bulk_size + j) for j in range(bulk_size)]})
                start = time.perf_counter()
                r = await client.post(f"/api/{endpoint}", content=body, headers=HEADERS)
                latencies.append(time.perf_counter() - start)
                if r.status_code != 200:
                    errors += 1
                elif endpoint == "events/track":
                    accepted += 1
                else:
                    accepted += r.json()["successCount"]
        await asyncio.gather(*(lane() for _ in range(concurrency)))
    return latencies, accepted, errors


def _client_process(args: tuple[str, str, int, int, int, int]) -> tuple[list[float], int, int]:
    return asyncio.run(_client(*args))


def bench_server(endpoint: str, requests: int, clients: int, concurrency: int, bulk_size: int) -> None:
    mock = new_mock()
    per_client = requests // clients
    with BackgroundServer(mock, log_level="error", freeze_gc=True) as url:
        with multiprocessing.get_context("spawn").Pool(clients) as pool:
            pool.map(_client_process, [(url, endpoint, 10_000 + w, 50, 2, bulk_size) for w in range(clients)])  # warm-up
            mock.projects["US"].events.clear()
            start = time.perf_counter()
            results = pool.map(_client_process,
                               [(url, endpoint, w, per_client, concurrency, bulk_size) for w in range(clients)])
            elapsed = time.perf_counter() - start
    latencies = sorted(x for lat, _, _ in results for x in lat)
    accepted = sum(a for _, a, _ in results)
    errors = sum(e for _, _, e in results)
    stored = len(mock.projects["US"].events)
    sent = len(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    events_per_s = f"  ({accepted / elapsed:,.0f} events/s)" if endpoint == "events/trackBulk" else ""
    print(f"server      {clients}x{concurrency} clients  {endpoint:<15}{sent / elapsed:>9,.0f} req/s  "
          f"p50 {p50:5.1f} ms  p99 {p99:5.1f} ms{events_per_s}  accepted {accepted:,}  stored {stored:,}  "
          f"errors {errors}  lost {accepted - stored}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000, help="requests per server run")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=4, help="connections per client process")
    parser.add_argument("--bulk-size", type=int, default=100, help="events per trackBulk request")
    parser.add_argument("--in-process", type=int, default=100_000, help="requests for the in-process loop")
    args = parser.parse_args()
    bench_in_process(args.in_process)
    bench_server("events/track", args.requests, args.clients, args.concurrency, args.bulk_size)
    bench_server("events/trackBulk", max(args.clients, args.requests // 20), args.clients, args.concurrency,
                 args.bulk_size)


if __name__ == "__main__":
    main()
