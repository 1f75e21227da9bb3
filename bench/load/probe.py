#!/usr/bin/env python3
"""Cross-instance probes for bench/load/run.sh, over keep-alive loopback connections (standard library only).

  invalidation  N rounds: warm user u's list on instance B, change u on instance A (POST /interactions), time until
                B's answer for u changes; then N rounds of DELETE /items/{id} on A until B stops listing the item
                (the item is put back after each round).
  recovery      after Redis comes back (restart epoch given): time until /health on A and B reports redis Healthy,
                until B reads from Redis (L2) a list A just computed, and until a tag removal on A evicts B's copy
                (backplane).
  during        while Redis is down or hung: sequential cache misses (fresh users) and hits on A, each timed, so the
                fault window is seen on its own rather than diluted in wrk's whole run.
  summary       the compact block run.sh prints at the end, from the result files of one run.

Times are wall-clock milliseconds from the moment A answered (invalidation) or from the Redis restart (recovery).
"""
import argparse
import http.client
import json
import math
import os
import sys
import threading
import time
import urllib.parse


class Api:
    """One keep-alive HTTP/1.1 connection to one API instance."""

    def __init__(self, base, timeout=10.0):
        url = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = url.hostname, url.port, timeout
        self.conn = None

    def call(self, method, path, body=None):
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, data
            except (http.client.HTTPException, OSError):
                # The server closed an idle keep-alive connection: one fresh connection, then give up.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise

    def recommendations(self, user):
        status, data = self.call("GET", f"/users/{user}/recommendations?limit=20")
        if status != 200:
            raise RuntimeError(f"GET recommendations for user {user}: {status} {data[:200]!r}")
        answer = json.loads(data)
        return answer["cache_hit"], answer["items"]

    def redis_healthy(self):
        try:
            status, data = self.call("GET", "/health")
            return json.loads(data)["entries"]["redis"]["status"] == "Healthy"
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            return False


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def describe(values, rounds):
    if not values:
        return {"rounds": rounds, "changed": 0}
    return {
        "rounds": rounds, "changed": len(values),
        "p50": percentile(values, 50), "p95": percentile(values, 95), "p99": percentile(values, 99), "max": max(values),
    }


def warm(b, user):
    """B computes u's list, then serves it from its cache: returns the list B holds."""
    b.recommendations(user)
    hit, items = b.recommendations(user)
    if not hit:
        raise RuntimeError(f"user {user}: the second read on B was not a cache hit")
    return items


def until_changed(b, user, before, deadline_s, item=None):
    """Polls B back to back until u's answer is a miss or differs (or no longer lists item); seconds, or None."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        hit, items = b.recommendations(user)
        changed = (item not in items) if item is not None else (not hit or items != before)
        if changed:
            return time.monotonic() - started
    return None


def invalidation(args):
    a, b = Api(args.a), Api(args.b)
    evictions, deactivations, user = [], [], args.first_user
    for _ in range(args.rounds):
        before = warm(b, user)
        status, data = a.call("POST", "/interactions", {"user_id": user, "item_id": before[0], "type": "purchase"})
        if status != 202:
            raise RuntimeError(f"POST /interactions: {status} {data[:200]!r}")
        elapsed = until_changed(b, user, before, args.deadline)
        if elapsed is not None:
            evictions.append(elapsed * 1000)
        user += 1
    for _ in range(args.rounds):
        before = warm(b, user)
        item = before[0]
        status, data = a.call("GET", f"/items/{item}")
        if status != 200:
            raise RuntimeError(f"GET /items/{item}: {status} {data[:200]!r}")
        original = json.loads(data)
        status, data = a.call("DELETE", f"/items/{item}")
        if status != 204:
            raise RuntimeError(f"DELETE /items/{item}: {status} {data[:200]!r}")
        elapsed = until_changed(b, user, before, args.deadline, item=item)
        if elapsed is not None:
            deactivations.append(elapsed * 1000)
        restore = {k: original[k] for k in ("title", "category", "tags", "price", "geo_id")}
        status, data = a.call("PUT", f"/items/{item}", dict(restore, active=True))
        if status not in (200, 201):
            raise RuntimeError(f"PUT /items/{item}: {status} {data[:200]!r}")
        user += 1
    result = {"eviction_ms": describe(evictions, args.rounds), "deactivation_ms": describe(deactivations, args.rounds)}
    print(json.dumps(result))


def recovery(args):
    """Three probes in parallel from the Redis restart; each records when it first succeeded."""
    since, stop_at = args.since, args.since + args.deadline
    found = {}

    def seconds():
        return round(time.time() - since, 3)

    def health():
        a, b = Api(args.a, timeout=5), Api(args.b, timeout=5)
        pending = {"health_a": a, "health_b": b}
        while pending and time.time() < stop_at:
            for name, api in list(pending.items()):
                if api.redis_healthy():
                    found[name] = seconds()
                    del pending[name]
            time.sleep(0.02)

    def shared_l2():
        # A fresh user per attempt: A computes and writes its list to Redis in the background; B has never seen
        # the user, so a cache hit on B's first read can only come from Redis.
        a, b, user = Api(args.a), Api(args.b), args.first_user
        while time.time() < stop_at:
            a.recommendations(user)
            time.sleep(0.05)
            hit, _ = b.recommendations(user)
            if hit:
                found["l2_shared"] = seconds()
                return
            user += 2

    def backplane():
        a, b, user = Api(args.a), Api(args.b), args.first_user + 1
        while time.time() < stop_at:
            before = warm(b, user)
            status, _ = a.call("POST", "/interactions", {"user_id": user, "item_id": before[0], "type": "purchase"})
            # A live backplane evicts within tens of ms here; a short wait per attempt keeps the recovery time fine-grained.
            if status == 202 and until_changed(b, user, before, min(0.3, max(0.0, stop_at - time.time()))) is not None:
                found["backplane"] = seconds()
                return
            user += 2

    errors = []

    def guarded(probe):
        def run():
            try:
                probe()
            except Exception as error:  # reported in the result: a probe failing is a finding, not a crash
                errors.append(f"{probe.__name__}: {error}")
        return run

    threads = [threading.Thread(target=guarded(p)) for p in (health, shared_l2, backplane)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = {k: found.get(k) for k in ("health_a", "health_b", "l2_shared", "backplane")}
    result["errors"] = errors
    print(json.dumps(result))


def during(args):
    a, user, end = Api(args.a), args.first_user, time.monotonic() + args.seconds
    timings = {"miss_ms": [], "hit_ms": []}
    failed = []
    while time.monotonic() < end:
        for kind, path in (("miss_ms", f"/users/{user}/recommendations?limit=20"), ("hit_ms", args.hit)):
            started = time.monotonic()
            try:
                status, _ = a.call("GET", path)
            except (OSError, http.client.HTTPException) as error:
                status = str(error)
            if status == 200:
                timings[kind].append((time.monotonic() - started) * 1000)
            else:
                failed.append(f"{path}: {status}")
        user += 1
        time.sleep(0.02)
    result = {}
    for kind, values in timings.items():
        result[kind] = describe(values, len(values))
        result[kind]["slow"] = sum(1 for v in values if v > args.slow_ms)
    result["failed"] = failed[:20]
    result["failed_count"] = len(failed)
    print(json.dumps(result))


def read_wrk(path):
    """The RESULT line bench/load/report.lua prints, as a dict."""
    with open(path) as f:
        for line in f:
            if line.startswith("RESULT "):
                return {k: float(v) for k, v in (pair.split("=") for pair in line.split()[1:])}
    return None


def read_json(path):
    with open(path) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def cpu_per_miss(meta):
    """The miss-heavy phase's CPU per request (cpu.sh's cpu_per_request) as a sentence; empty when not measured."""
    if not meta.get("miss_heavy_cpu"):
        return ""
    cpu = {k: int(v) for k, v in (pair.split("=") for pair in meta["miss_heavy_cpu"].split())}
    cores = int(meta.get("cpus", "2"))
    return (f"; CPU per miss: the machine **{cpu['machine']:,} µs** (API {cpu['api']:,}, PostgreSQL {cpu['postgres']:,}, "
            f"Redis {cpu['redis']:,}, the rest {cpu['rest']:,}), so at most {cores * 1_000_000 // max(cpu['machine'], 1):,} req/s "
            f"on {cores} cores")


def summary(args):
    d = args.results
    with open(os.path.join(d, "meta")) as f:
        meta = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)

    def load(name):
        return meta.get(f"load_{name}", "?")

    def ms(v):
        return "–" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")

    def sec(v):
        return "not within the probe window" if v is None else f"{v:.2f} s"

    rows = []
    if meta.get("model_build_s"):
        rows.append(("First model build, size S (Refresher start-up run, with the tuning search)", "–", f"**{meta['model_build_s']} s** "
                     f"(each job from due to published, builds in turn: {meta.get('model_build_jobs', '')})", meta.get("load_model", "?")))
    if meta.get("model_rebuild_s"):
        rows.append(("Full model rebuild, size S (every job again on re-read data, the search's choices kept)", "≤ 10 s",
                     f"**{meta['model_rebuild_s']} s** (each job from due to published, builds in turn: {meta.get('model_rebuild_jobs', '')})", meta.get("load_rebuild", "?")))
    alive = [read_wrk(os.path.join(d, f"alive_{r}")) for r in (1, 2)]
    hit = [read_wrk(os.path.join(d, f"hit_{r}")) for r in (1, 2)]
    alive_sum, hit_sum = sum(x["rps"] for x in alive), sum(x["rps"] for x in hit)
    rows.append(("Cache-hit throughput vs `/alive`", "≥ 95%",
                 f"**{100 * hit_sum / alive_sum:.0f}%** ({hit_sum / 1000:.1f}k vs {alive_sum / 1000:.1f}k req/s over 2 rounds; "
                 f"hit p99 {hit[0]['p99']:.2f} / {hit[1]['p99']:.2f} ms)", load("hits")))
    misses = [(c, read_wrk(os.path.join(d, f"miss_{c}"))) for c in (1, 2, 4)]
    rows.append(("Cache misses, 1 / 2 / 4 connections", "≥ 2,040 req/s at 4 (3× 680); p95 ≤ 3 / 3 / 5 ms",
                 "p95 **" + " / ".join(f"{m['p95']:.1f}" for _, m in misses) + " ms** (p50 "
                 + " / ".join(f"{m['p50']:.1f}" for _, m in misses) + ", p99 "
                 + " / ".join(f"{m['p99']:.1f}" for _, m in misses) + " ms; "
                 + " / ".join(f"{m['rps']:.0f}" for _, m in misses) + " req/s)", load("misses")))
    heavy = read_wrk(os.path.join(d, "miss_heavy"))
    if heavy:
        rows.append(("Miss-heavy: 64 connections, every request a different user over all of S", "≥ 2,000 req/s, p99 ≤ 50 ms",
                     f"**{heavy['rps']:.0f} req/s, p99 {heavy['p99']:.1f} ms** (p50 {heavy['p50']:.1f}, p95 {heavy['p95']:.1f} ms; "
                     f"{heavy['requests']:.0f} requests, {heavy['non2xx'] + heavy['timeout']:.0f} failed)" + cpu_per_miss(meta), load("miss_heavy")))
    inv = read_json(os.path.join(d, "invalidation"))
    for key, what, target in (("eviction_ms", "Interaction on A evicts u's list on B", "p99 < 100 ms"),
                              ("deactivation_ms", "Item deactivated on A gone from B", "< 1 s")):
        r = inv[key]
        measured = (f"p50 {ms(r.get('p50'))}, p95 {ms(r.get('p95'))}, **p99 {ms(r.get('p99'))}**, max {ms(r.get('max'))} ms"
                    f" ({r['changed']}/{r['rounds']} rounds changed within the deadline)")
        rows.append((what, target, measured, load("invalidation")))
    for fault, label in (("kill", "Redis killed 7 s"), ("hang", "Redis hung 8 s (SIGSTOP)")):
        for kind in ("hit", "miss"):
            base = read_wrk(os.path.join(d, f"control_{kind}"))
            run = read_wrk(os.path.join(d, f"{fault}_{kind}"))
            failed = int(run["non2xx"] + run["connect"] + run["read"] + run["write"] + run["timeout"])
            socket = int(run["connect"] + run["read"] + run["write"])
            rows.append((f"{label}, wrk {'cache hits' if kind == 'hit' else 'cache misses'} for {meta.get('outage_s', '?')} s",
                         "0 failed reads, no stall beyond the hard timeout",
                         f"**{failed} failed** of {run['requests']:.0f} (non-2xx {run['non2xx']:.0f}, socket errors {socket}, "
                         f"timeouts {run['timeout']:.0f}); max **{run['max']:.0f} ms**, p99 {run['p99']:.1f} ms, "
                         f"{run['slow']:.0f} over {meta.get('slow_ms', '250')} ms (no fault: max {base['max']:.0f} ms, p99 {base['p99']:.1f} ms, "
                         f"{base['slow']:.0f} over)", load(fault)))
        dur = read_json(os.path.join(d, f"{fault}_during"))
        miss, hit = dur["miss_ms"], dur["hit_ms"]
        rows.append((f"{label}: sequential requests on A while Redis is out", "no stall beyond the hard timeout",
                     f"misses p50 {ms(miss.get('p50'))}, max **{ms(miss.get('max'))} ms** ({miss['slow']} of {miss['rounds']} over "
                     f"{meta.get('slow_ms', '250')} ms); hits p50 {ms(hit.get('p50'))}, max {ms(hit.get('max'))} ms; "
                     f"{dur['failed_count']} failed", load(fault)))
        rec = read_json(os.path.join(d, f"{fault}_recovery"))
        health = None if rec["health_a"] is None or rec["health_b"] is None else max(rec["health_a"], rec["health_b"])
        note = f"; probe errors: {'; '.join(rec['errors'])}" if rec["errors"] else ""
        rows.append((f"{label}: cache whole again after Redis returns", "≤ 2 s",
                     f"/health redis Healthy on A and B {sec(health)}, L2 shared {sec(rec['l2_shared'])}, "
                     f"backplane {sec(rec['backplane'])}{note}", load(fault)))

    if meta.get("rss_a_mb"):
        rows.append(("API RSS after the run (each instance), 25 s idle", "≤ 400 MB",
                     f"**A {meta['rss_a_mb']} MB, B {meta['rss_b_mb']} MB** ("
                     + (f"at the end of the last phase A {meta['rss_end_a_mb']}, B {meta['rss_end_b_mb']} MB; "
                        f"peak A {meta['rss_peak_a_mb']}, B {meta['rss_peak_b_mb']} MB; " if meta.get("rss_end_a_mb") else "")
                     + (f"A's managed heap {meta['gc_heap_a_mb']} MB; " if meta.get("gc_heap_a_mb") else "")
                     + f"L1 budget {meta.get('l1_budget', '?')} lists; "
                     f"A's {meta.get('cache_a', '?')})", "–"))
    print(f"Run {meta.get('date', '?')} on commit {meta.get('commit', '?')} ({meta.get('cpus', '?')} cores; "
          f"load average at start {meta.get('load_start', '?')}; services' log level {meta.get('log_level', '?')}).")
    print()
    print("| what | target | measured | load avg |")
    print("|---|---|---|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    inv = commands.add_parser("invalidation")
    inv.add_argument("--a", required=True)
    inv.add_argument("--b", required=True)
    inv.add_argument("--rounds", type=int, default=50)
    inv.add_argument("--first-user", type=int, default=30001)
    inv.add_argument("--deadline", type=float, default=5.0, help="seconds a round waits for B to change")
    inv.set_defaults(run=invalidation)
    rec = commands.add_parser("recovery")
    rec.add_argument("--a", required=True)
    rec.add_argument("--b", required=True)
    rec.add_argument("--since", type=float, required=True, help="epoch seconds of the Redis restart")
    rec.add_argument("--deadline", type=float, default=8.0, help="seconds after the restart the probes give up")
    rec.add_argument("--first-user", type=int, required=True)
    rec.set_defaults(run=recovery)
    dur = commands.add_parser("during")
    dur.add_argument("--a", required=True)
    dur.add_argument("--seconds", type=float, required=True)
    dur.add_argument("--first-user", type=int, required=True)
    dur.add_argument("--hit", default="/users/123/recommendations?limit=20", help="a path whose answer is cached")
    dur.add_argument("--slow-ms", type=float, default=float(os.environ.get("SLOW_MS", "250")))
    dur.set_defaults(run=during)
    summ = commands.add_parser("summary")
    summ.add_argument("results")
    summ.set_defaults(run=summary)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
