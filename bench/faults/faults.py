#!/usr/bin/env python3
"""The phases of bench/faults/run.sh, one subcommand each (standard library only), and the summary table.

  dbkill      8 writers POST /interactions (unique event_id each); PostgreSQL is killed (SIGKILL of the postmaster and
              every child) mid-run and restarted; acknowledged events vs rows stored, refusals by status and kind.
  freeze      cached reads and misses on A; PostgreSQL frozen (SIGSTOP of the postmaster and its children): read
              throughput, /health, a write and /stats timed during the freeze; SIGCONT and time until /health is Healthy.
  refresher   POST /admin/refresh/all, kill -9 of the Refresher while the similarities job runs, what the API serves
              meanwhile, restart, time until the API serves the rebuilt model.
  malformed   MALFORMED_REQUESTS malformed requests across the public endpoints: answers by status; any 5xx fails.
  duplicates  DUP_ROUNDS rounds of DUP_CONCURRENCY concurrent POSTs of one event_id: exactly one row each.
  admin       ADMIN_ATTEMPTS wrong-key and keyless admin requests from one address while the operator uses the right key.
  adminlog    (after the soak) the API's aggregated warning about those failures, and its log volume during them.
  soak        SOAK_DURATION of mixed reads and writes on both instances: errors, p99, each instance's RSS per minute.
  died        records a service (api-a, api-b, refresher) that exited on its own, with the log entry that says why.
  summary     the markdown table of every phase's result file.

Everything is configured by run.sh through the environment (A, B, WORK, RESULTS, ADMIN_KEY, RUN_ID, PG*, knobs).
Each phase writes RESULTS/<phase>.json with its figures, "pass" and "findings" (what failed, in words).
"""
import collections
import http.client
import json
import math
import os
import queue
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

ENV = os.environ
HERE = os.path.dirname(os.path.abspath(__file__))


def env_int(name, default):
    return int(ENV.get(name, default))


def env_float(name, default):
    return float(ENV.get(name, default))


def seconds_of(text):
    """'300', '300s', '5m', '1h' -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


A = ENV.get("A", "")
B = ENV.get("B", "")
WORK = ENV.get("WORK", "")
RESULTS = ENV.get("RESULTS", "")
ADMIN_KEY = ENV.get("ADMIN_KEY", "")
RUN_ID = ENV.get("RUN_ID", "run")
USERS = env_int("FAULTS_USERS", 50000)
ITEMS = env_int("FAULTS_ITEMS", 16000)


def log(message):
    print(f"   {message}", flush=True)


def load_avg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def save(name, data):
    data.setdefault("load", load_avg())
    with open(os.path.join(RESULTS, name + ".json"), "w") as f:
        json.dump(data, f, indent=1, default=str)


def psql(sql, timeout=60):
    done = subprocess.run(["psql", "-XtAq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def stored_event_ids(prefix):
    text = psql(f"SELECT event_id FROM interactions WHERE event_id LIKE '{prefix}%'")
    return set(text.split()) if text else set()


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


class Answer:
    def __init__(self, status, headers, body, seconds):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def problem(self):
        return self.headers.get("content-type", "").startswith("application/problem+json")

    @property
    def retry_after(self):
        return "retry-after" in self.headers


class Http:
    """One keep-alive HTTP/1.1 connection to one API instance, every call timed."""

    def __init__(self, base, timeout=10.0):
        url = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = url.hostname, url.port, timeout
        self.conn = None

    def connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.connect()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, method, path, body=None, headers=None, retry=True):
        payload = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        sent = dict(headers or {})
        if payload is not None and not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = "application/json"
        for attempt in (1, 2):
            started = time.monotonic()
            try:
                self.connect()
                self.conn.request(method, path, body=payload, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data,
                                time.monotonic() - started)
                if response.getheader("connection", "").lower() == "close":
                    self.close()
                return answer
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2 or not retry:
                    raise


def refusal_kind(answer):
    """What a refused write says about its events: nothing stored, maybe stored, or something else."""
    detail = (answer.json() or {}).get("detail") or ""
    if "nothing was stored" in detail:
        return "nothing_stored"
    if "may or may not" in detail:
        return "maybe_stored"
    return "other"


def postgres_pids():
    """The postmaster (from postmaster.pid) and its children."""
    with open(os.path.join(WORK, "pg", "data", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
    return postmaster, [int(p) for p in children]


def process_state(pid):
    """'R', 'S', 'T', 'Z', ... or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def shell(function):
    """Runs a function run.sh exported (export -f), e.g. pg_start or refresher_start."""
    done = subprocess.run(["bash", "-c", function], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{function} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def health(api):
    """(seconds, HTTP status, overall status, recdb status) of one GET /health."""
    try:
        answer = api.call("GET", "/health")
    except (OSError, http.client.HTTPException) as ex:
        return None, None, f"error: {ex!r}", None
    body = answer.json() or {}
    return answer.seconds, answer.status, body.get("status"), (body.get("entries", {}).get("recdb") or {}).get("status")


def wait_healthy(bases, deadline_s=60):
    """Seconds until every instance reports Healthy (None for those that did not)."""
    started, found = time.monotonic(), {}
    apis = {base: Http(base, timeout=5) for base in bases}
    while len(found) < len(apis) and time.monotonic() - started < deadline_s:
        for base, api in apis.items():
            if base not in found and health(api)[2] == "Healthy":
                found[base] = time.monotonic() - started
        time.sleep(0.1)
    return [found.get(base) for base in bases]


# ---------------------------------------------------------------------------------------------------------------------
# 1. PostgreSQL killed under writers

def dbkill(_):
    writers, duration = env_int("WRITERS", 8), env_float("WRITE_DURATION", 20)
    kill_at, down, write_after = env_float("KILL_AT", 5), env_float("DB_DOWN", 5), env_float("WRITE_AFTER", 5)
    prefix = f"{RUN_ID}-p1-"
    records, lock, stop = [], threading.Lock(), threading.Event()
    timeline = {}

    def writer(index):
        api, rnd, n = Http(A if index % 2 == 0 else B, timeout=10), random.Random(index), 0
        while not stop.is_set():
            n += 1
            event = {"user_id": rnd.randint(1, USERS), "item_id": rnd.randint(1, ITEMS), "type": "view",
                     "event_id": f"{prefix}{index}-{n}"}
            at = time.monotonic()
            record = {"event": event, "at": at, "instance": "A" if index % 2 == 0 else "B"}
            try:
                answer = api.call("POST", "/interactions", event, retry=False)
                record.update(seconds=answer.seconds, status=answer.status)
                if answer.status == 202:
                    body = answer.json() or {}
                    record["outcome"] = ("acked" if body.get("accepted") == 1
                                         else "duplicate" if body.get("duplicates") == 1 else "odd_202")
                else:
                    record.update(outcome="refused", problem=answer.problem, retry_after=answer.retry_after,
                                  kind=refusal_kind(answer))
            except (OSError, http.client.HTTPException) as ex:
                record.update(seconds=time.monotonic() - at, status=None, outcome="no_answer", error=repr(ex))
                stop.wait(0.1)  # an instance that does not answer at all is a finding, not a reason to spin
            with lock:
                records.append(record)

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(writers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(kill_at)
    postmaster, children = postgres_pids()
    timeline["kill"] = time.monotonic() - started
    for pid in [postmaster] + children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    log(f"PostgreSQL killed (SIGKILL of the postmaster {postmaster} and {len(children)} children) at {timeline['kill']:.1f} s")
    time.sleep(max(0.0, kill_at + down - (time.monotonic() - started)))
    # The killed postmaster may linger as a zombie until init reaps it; PostgreSQL would then take its stale
    # postmaster.pid for a live server. Wait for it, and past 15 s remove the stale lock file (all processes are dead).
    waited = time.monotonic()
    while process_state(postmaster) not in (None,) and time.monotonic() - waited < 15:
        time.sleep(0.1)
    if process_state(postmaster) is not None:
        os.remove(os.path.join(WORK, "pg", "data", "postmaster.pid"))
        log("removed the stale postmaster.pid of the killed (zombie) postmaster")
    timeline["restart"] = time.monotonic() - started
    shell('pg_start "$PG_DIR" "$PG_PORT"')
    timeline["ready"] = time.monotonic() - started
    log(f"PostgreSQL restarted at {timeline['restart']:.1f} s, accepting connections at {timeline['ready']:.1f} s "
        f"(crash recovery included)")
    time.sleep(max(0.0, duration - (time.monotonic() - started), timeline["ready"] + write_after - (time.monotonic() - started)))
    stop.set()
    for t in threads:
        t.join(30)
    writes_s = time.monotonic() - started
    for r in records:
        r["t"] = r["at"] - started

    stored = stored_event_ids(prefix)
    acked = {r["event"]["event_id"] for r in records if r["outcome"] == "acked"}
    refused = [r for r in records if r["outcome"] == "refused"]
    no_answer = [r for r in records if r["outcome"] == "no_answer"]
    by_status = collections.Counter(str(r["status"]) for r in refused)
    by_kind = collections.Counter(r["kind"] for r in refused)
    bad_refusals = [r for r in refused if not (r["status"] == 503 and r["problem"] and r["retry_after"])]
    nothing_but_stored = [r["event"]["event_id"] for r in refused
                          if r["kind"] == "nothing_stored" and r["event"]["event_id"] in stored]
    maybe_stored = [r for r in refused if r["kind"] == "maybe_stored"]
    lost = sorted(acked - stored)
    unacked_stored = stored - acked
    # First acknowledged write after the restart, per instance.
    back = {}
    for r in sorted(records, key=lambda r: r["t"]):
        if r["outcome"] == "acked" and r["t"] >= timeline["ready"] and r["instance"] not in back:
            back[r["instance"]] = r["t"] + r["seconds"] - timeline["ready"]
    refusal_times = [r["seconds"] for r in refused]

    # The documented retry: every refused or unanswered event again, same event_id, now that the database is back.
    retry_api, retried = Http(A), collections.Counter()
    for r in refused + no_answer + [r for r in records if r["outcome"] not in ("acked", "refused", "no_answer")]:
        answer = retry_api.call("POST", "/interactions", r["event"])
        body = answer.json() or {}
        retried["accepted" if answer.status == 202 and body.get("accepted") == 1
                else "duplicate" if answer.status == 202 and body.get("duplicates") == 1 else f"status_{answer.status}"] += 1
    stored_after = stored_event_ids(prefix)
    sent = {r["event"]["event_id"] for r in records}

    findings = []
    if lost:
        findings.append(f"{len(lost)} acknowledged events not stored (e.g. {lost[:3]})")
    if bad_refusals:
        findings.append(f"{len(bad_refusals)} refusals were not a 503 problem with Retry-After: "
                        f"{dict(collections.Counter((r['status'], r['problem'], r['retry_after']) for r in bad_refusals))}")
    if nothing_but_stored:
        findings.append(f"{len(nothing_but_stored)} refusals said 'nothing was stored' but the event is stored "
                        f"(e.g. {nothing_but_stored[:3]})")
    if no_answer:
        findings.append(f"{len(no_answer)} writes got no HTTP answer within 10 s ({no_answer[0].get('error')})")
    if stored_after != sent:
        findings.append(f"after retrying every refused event: {len(sent)} sent, {len(stored_after)} stored")
    if not refused:
        findings.append("no write was refused: the kill did not land during the run")
    result = {
        "writers": writers, "duration_s": round(writes_s, 1), "kill_at_s": round(timeline["kill"], 2),
        "down_s": round(timeline["ready"] - timeline["kill"], 2), "timeline_s": {k: round(v, 2) for k, v in timeline.items()},
        "requests": len(records), "acknowledged": len(acked), "stored": len(stored), "lost": len(lost),
        "stored_not_acknowledged": len(unacked_stored), "refused": len(refused), "refused_by_status": dict(by_status),
        "refused_by_kind": dict(by_kind), "maybe_stored_refusals_found_stored":
            sum(1 for r in maybe_stored if r["event"]["event_id"] in stored),
        "refusals_not_503_problem_retry_after": len(bad_refusals), "nothing_stored_but_stored": len(nothing_but_stored),
        "no_answer": len(no_answer), "refusal_ms_p50": ms(percentile(refusal_times, 50)),
        "refusal_ms_max": ms(max(refusal_times) if refusal_times else None),
        "write_ms_max": ms(max(r["seconds"] for r in records)),
        "first_ack_after_ready_s": {k: round(v, 2) for k, v in back.items()},
        "retried": dict(retried), "stored_after_retry": len(stored_after), "sent": len(sent),
        "findings": findings, "pass": not findings,
    }
    save("dbkill", result)
    log(json.dumps({k: result[k] for k in ("requests", "acknowledged", "stored", "lost", "refused_by_status",
                                             "refused_by_kind", "first_ack_after_ready_s", "retried", "findings")}))


# ---------------------------------------------------------------------------------------------------------------------
# 2. PostgreSQL frozen under reads

def wrk(mode, base, seconds, connections, extra_env=None, path="/"):
    env = dict(ENV, FAULTS_MODE=mode, **(extra_env or {}))
    return subprocess.Popen(
        ["wrk", "--timeout", "10s", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "-s",
         os.path.join(HERE, "load.lua"), base + path],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(process):
    out, _ = process.communicate()
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    raise RuntimeError(f"wrk printed no RESULT line:\n{out}")


def freeze(_):
    baseline_s, freeze_s = env_float("FREEZE_BASELINE", 5), env_float("FREEZE_DURATION", 10)
    hit_path = "/users/123/recommendations?limit=20"
    warm = Http(A)
    warm.call("GET", hit_path)
    warm.call("GET", hit_path)

    wrk_result(wrk("hit", A, 3, 16, path=hit_path))  # warm-up, not reported
    log(f"baseline: {baseline_s:.0f} s of cache hits (16 connections) and misses (2 connections) on A")
    hits = wrk("hit", A, baseline_s, 16, path=hit_path)
    misses = wrk("miss", A, baseline_s, 2, {"FAULTS_USER_OFFSET": "1000"})
    baseline = {"hits": wrk_result(hits), "misses": wrk_result(misses)}

    postmaster, children = postgres_pids()
    pids = [postmaster] + children
    prefix = f"{RUN_ID}-p2-"
    api_pids = {}
    for name in ("a", "b"):
        with open(os.path.join(WORK, f"api-{name}.pid")) as f:
            api_pids[name.upper()] = int(f.read())
    threads_before = {n: proc_threads(p) for n, p in api_pids.items()}
    probes = collections.defaultdict(list)
    stop = threading.Event()

    def health_probe():
        apis = {"A": Http(A), "B": Http(B)}
        while not stop.is_set():
            for name, api in apis.items():
                seconds, status, overall, recdb = health(api)
                probes["health"].append({"instance": name, "seconds": seconds, "status": status, "overall": overall,
                                         "recdb": recdb})

    def write_probe():
        apis, n = [("A", Http(A)), ("B", Http(B))], 0
        while not stop.is_set():
            name, api = apis[n % 2]
            n += 1
            event = {"user_id": 777, "item_id": 42, "type": "click", "event_id": f"{prefix}{n}"}
            try:
                answer = api.call("POST", "/interactions", event, retry=False)
                probes["write"].append({"instance": name, "event_id": event["event_id"], "seconds": answer.seconds,
                                        "status": answer.status, "problem": answer.problem,
                                        "retry_after": answer.retry_after,
                                        "kind": refusal_kind(answer) if answer.status != 202 else "acked"})
            except (OSError, http.client.HTTPException) as ex:
                probes["write"].append({"instance": name, "event_id": event["event_id"], "seconds": None,
                                        "status": None, "kind": "no_answer", "error": repr(ex)})
            stop.wait(0.3)

    def stats_probe():
        apis, n = [("A", Http(A)), ("B", Http(B))], 0
        while not stop.is_set():
            name, api = apis[n % 2]
            n += 1
            try:
                answer = api.call("GET", "/stats")
                body = answer.json() or {}
                probes["stats"].append({"instance": name, "seconds": answer.seconds, "status": answer.status,
                                        "database_error": body.get("database_error")})
            except (OSError, http.client.HTTPException) as ex:
                probes["stats"].append({"instance": name, "seconds": None, "status": None, "error": repr(ex)})
            stop.wait(0.3)

    peak_threads = dict(threads_before)

    def thread_sampler():
        while not stop.is_set():
            for n, p in api_pids.items():
                peak_threads[n] = max(peak_threads[n] or 0, proc_threads(p) or 0)
            stop.wait(0.2)

    def miss_probe():
        api, user = Http(B), 20001
        while not stop.is_set():
            user += 1
            try:
                answer = api.call("GET", f"/users/{user}/recommendations?limit=20")
                body = answer.json() or {}
                probes["miss"].append({"seconds": answer.seconds, "status": answer.status,
                                       "degraded": body.get("degraded"), "cache_hit": body.get("cache_hit")})
            except (OSError, http.client.HTTPException) as ex:
                probes["miss"].append({"seconds": None, "status": None, "error": repr(ex)})

    findings = []
    frozen_at = time.monotonic()
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        log(f"PostgreSQL frozen (SIGSTOP of the postmaster {postmaster} and {len(children)} children) for {freeze_s:.0f} s")
        hits = wrk("hit", A, freeze_s, 16, path=hit_path)
        misses = wrk("miss", A, freeze_s, 2, {"FAULTS_USER_OFFSET": "5000"})
        threads = [threading.Thread(target=f, daemon=True) for f in (health_probe, write_probe, stats_probe, miss_probe,
                                                                 thread_sampler)]
        for t in threads:
            t.start()
        during = {"hits": wrk_result(hits), "misses": wrk_result(misses)}
        threads_frozen = {n: proc_threads(p) for n, p in api_pids.items()}
        stop.set()
        for t in threads:
            t.join(15)
    finally:
        frozen_s = time.monotonic() - frozen_at
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
    resumed = time.monotonic()
    log(f"PostgreSQL resumed (SIGCONT) after {frozen_s:.1f} s")
    healthy_a, healthy_b = wait_healthy([A, B], 60)
    # And a write accepted again.
    write_back, api = None, Http(A)
    while time.monotonic() - resumed < 60:
        answer = api.call("POST", "/interactions", {"user_id": 778, "item_id": 42, "type": "click",
                                                    "event_id": f"{prefix}after-{time.monotonic_ns()}"})
        if answer.status == 202:
            write_back = time.monotonic() - resumed
            break
        time.sleep(0.05)
    time.sleep(2)  # let a write given up during the freeze finish (or not) in the background
    stored = stored_event_ids(prefix)

    health_probes = probes["health"]
    health_times = [p["seconds"] for p in health_probes if p["seconds"] is not None]
    health_states = collections.Counter(f"{p['status']} {p['overall']}" for p in health_probes)
    writes = probes["write"]
    write_times = [p["seconds"] for p in writes if p["seconds"] is not None]
    write_states = collections.Counter(f"{p['status']} {p['kind']}" for p in writes)
    write_bad = [p for p in writes if not (p["status"] == 503 and p.get("problem") and p.get("retry_after"))]
    nothing_but_stored = [p["event_id"] for p in writes if p["kind"] == "nothing_stored" and p["event_id"] in stored]
    stats = probes["stats"]
    stats_times = [p["seconds"] for p in stats if p["seconds"] is not None]
    stats_states = collections.Counter(f"{p['status']} {'database_error' if p.get('database_error') else 'complete'}"
                                       for p in stats)
    miss = probes["miss"]
    miss_times = [p["seconds"] for p in miss if p["seconds"] is not None]
    miss_states = collections.Counter(
        f"{p['status']} {p.get('degraded') or 'not_degraded'}{' cache_hit' if p.get('cache_hit') else ''}" for p in miss)

    if not health_times or max(health_times) >= 1.5 or any(p["overall"] != "Degraded" for p in health_probes):
        findings.append(f"/health during the freeze: max {ms(max(health_times) if health_times else None)} ms, "
                        f"answers {dict(health_states)} (expected < 1500 ms, every one Degraded)")
    if not write_times or max(write_times) > 2.0 or write_bad:
        findings.append(f"writes during the freeze: max {ms(max(write_times) if write_times else None)} ms, "
                        f"answers {dict(write_states)} (expected 503 problem with Retry-After within ~2 s)")
    if nothing_but_stored:
        findings.append(f"{len(nothing_but_stored)} writes answered 'nothing was stored' were stored after the resume")
    if not stats_times or max(stats_times) > 1.2 or any(p["status"] != 200 for p in stats):
        findings.append(f"/stats during the freeze: max {ms(max(stats_times) if stats_times else None)} ms, "
                        f"answers {dict(stats_states)} (expected 200 within ~1 s)")
    for name, value in (("A", healthy_a), ("B", healthy_b)):
        if value is None or value > 2.0:
            findings.append(f"instance {name} Healthy again {value if value is None else round(value, 2)} s after SIGCONT "
                            f"(expected ≤ 2 s)")
    for kind in ("hits", "misses"):
        r = during[kind]
        if r["non2xx"] or r["connect"] or r["read"] or r["write"] or r["timeout"]:
            findings.append(f"{kind} during the freeze: {int(r['non2xx'])} non-2xx, {int(r['timeout'])} timeouts, "
                            f"{int(r['read'] + r['write'] + r['connect'])} socket errors")
    if any(p["status"] != 200 for p in miss) or any(p.get("cache_hit") and p.get("degraded") for p in miss):
        findings.append(f"misses probed on B during the freeze: {dict(miss_states)}")

    result = {
        "freeze_s": round(frozen_s, 2), "baseline": baseline, "during": during,
        "api_threads": {"before": threads_before, "peak_during": peak_threads, "end_of_freeze": threads_frozen,
                        "after": {n: proc_threads(p) for n, p in api_pids.items()}},
        "health_calls": len(health_probes), "health_ms_max": ms(max(health_times) if health_times else None),
        "health_ms_p50": ms(percentile(health_times, 50)), "health_answers": dict(health_states),
        "write_calls": len(writes), "write_ms_max": ms(max(write_times) if write_times else None),
        "write_ms_min": ms(min(write_times) if write_times else None), "write_answers": dict(write_states),
        "writes_nothing_stored_but_stored": len(nothing_but_stored),
        "stats_calls": len(stats), "stats_ms_max": ms(max(stats_times) if stats_times else None),
        "stats_ms_p50": ms(percentile(stats_times, 50)), "write_ms_p50": ms(percentile(write_times, 50)),
        "health_ms_all": [ms(t) for t in health_times], "stats_ms_all": [ms(t) for t in stats_times],
        "write_ms_all": [ms(t) for t in write_times],
        "stats_answers": dict(stats_states),
        "miss_calls": len(miss), "miss_ms_max": ms(max(miss_times) if miss_times else None),
        "miss_ms_p50": ms(percentile(miss_times, 50)), "miss_answers": dict(miss_states),
        "healthy_after_s": {"A": healthy_a and round(healthy_a, 2), "B": healthy_b and round(healthy_b, 2)},
        "write_accepted_after_s": write_back and round(write_back, 2),
        "findings": findings, "pass": not findings,
    }
    save("freeze", result)
    log(json.dumps({k: result[k] for k in ("health_ms_max", "health_answers", "write_ms_max", "write_answers",
                                             "stats_ms_max", "stats_answers", "miss_answers", "healthy_after_s",
                                             "findings")}))
    log(f"hits rps {baseline['hits']['rps']:.0f} -> {during['hits']['rps']:.0f}, "
        f"misses rps {baseline['misses']['rps']:.0f} -> {during['misses']['rps']:.0f}")


# ---------------------------------------------------------------------------------------------------------------------
# 3. Refresher killed mid-build

def serving_version(api):
    answer = api.call("GET", "/stats")
    return ((answer.json() or {}).get("model") or {}).get("serving_version")


def current_parts():
    text = psql("SELECT part || '=' || version FROM model_current ORDER BY part")
    return dict(line.split("=") for line in text.split()) if text else {}


def refresher(_):
    into_build, gap_s = env_float("KILL_INTO_BUILD", 2), env_float("GAP_DURATION", 10)
    deadline_s = env_float("REBUILD_DEADLINE", 300)
    a, b, admin = Http(A), Http(B), Http(A)
    findings = []
    before = {"A": serving_version(a), "B": serving_version(b)}
    parts_before = current_parts()
    newest_before = int(psql("SELECT coalesce(max(version), 0) FROM model_versions"))
    last_run = int(psql("SELECT coalesce(max(id), 0) FROM job_runs"))
    answer = admin.call("POST", "/admin/refresh/all", headers={"X-Admin-Key": ADMIN_KEY})
    if answer.status != 202:
        raise RuntimeError(f"POST /admin/refresh/all: {answer.status} {answer.body[:300]!r}")
    asked = time.monotonic()
    run_id, run_status = None, None
    while time.monotonic() - asked < 300:
        row = psql(f"SELECT id || ' ' || status FROM job_runs WHERE job = 'similarities' AND id > {last_run} "
                   f"ORDER BY id DESC LIMIT 1")
        if row:
            run_id, run_status = int(row.split()[0]), row.split()[1]
            if run_status == "running":
                break
        time.sleep(0.1)
    if run_status != "running":
        raise RuntimeError(f"the similarities job never ran after the request (last state {run_status})")
    similarities_started = time.monotonic()
    log(f"similarities job {run_id} running {similarities_started - asked:.1f} s after the request; "
        f"killing the Refresher {into_build:.0f} s into it")
    time.sleep(into_build)
    with open(os.path.join(WORK, "refresher.pid")) as f:
        pid = int(f.read())
    state_at_kill = psql(f"SELECT status FROM job_runs WHERE id = {run_id}")
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    building = int(psql(f"SELECT count(*) FROM model_versions WHERE status = 'building' AND version > {newest_before}"))
    log(f"Refresher {pid} killed (SIGKILL) {killed - similarities_started:.1f} s into the similarities job "
        f"(job run {state_at_kill} at the kill, {building} model versions 'building')")
    if state_at_kill != "running":
        findings.append(f"the similarities job was '{state_at_kill}' at the kill, not running: not killed mid-build")
    at_kill = {"A": serving_version(a), "B": serving_version(b)}
    parts_at_kill = current_parts()
    published_at_kill = max(int(v) for v in parts_at_kill.values())

    # The gap: what the API serves while no Refresher runs.
    gap, rnd = collections.Counter(), random.Random(3)
    versions_seen = collections.Counter()
    while time.monotonic() - killed < gap_s:
        for name, api in (("A", a), ("B", b)):
            for path in (f"/users/{rnd.randint(1, 500)}/recommendations?limit=10", f"/items/{rnd.randint(1, ITEMS)}/similar?limit=10"):
                answer = api.call("GET", path)
                body = answer.json() or {}
                kind = "similar" if "/similar" in path else "user"
                gap[f"{kind} {answer.status}"] += 1
            versions_seen[(name, serving_version(api))] += 1
        time.sleep(0.2)
    parts_gap = current_parts()
    similarity_parts = [p for p in parts_before if p not in ("popularity", "trending", "profiles")]
    # What every similarities build publishes (item embeddings are kept only where they win on the validation split).
    rebuilt_parts = [p for p in ("item_neighbors", "user_neighbors", "tuning") if p in parts_before]
    changed = [p for p in similarity_parts if parts_gap.get(p) != parts_before.get(p)]
    if changed:
        findings.append(f"similarity parts {changed} changed while the Refresher was dead")
    if parts_gap != parts_at_kill:
        findings.append(f"model_current changed while no Refresher ran: {parts_at_kill} -> {parts_gap}")
    served_during = {name: sorted({v for (n, v) in versions_seen if n == name}) for name in ("A", "B")}
    if any(v is None or v > published_at_kill or v < min(before.values()) for vs in served_during.values() for v in vs):
        findings.append(f"served versions during the gap {served_during}; {published_at_kill} was the newest published")
    bad_gap = {k: v for k, v in gap.items() if not k.endswith(" 200")}
    if bad_gap:
        findings.append(f"answers during the gap: {dict(gap)}")

    shell("refresher_start")
    restarted = time.monotonic()
    log("Refresher restarted")
    first_newer, rebuilt, rebuilt_version = {}, {}, None
    while time.monotonic() - restarted < deadline_s and len(rebuilt) < 2:
        parts = current_parts()
        if rebuilt_version is None and all(parts.get(p) != parts_before.get(p) for p in rebuilt_parts):
            rebuilt_version = max(int(v) for v in parts.values())
        for name, api in (("A", a), ("B", b)):
            version = serving_version(api)
            if version is not None and version > published_at_kill and name not in first_newer:
                first_newer[name] = time.monotonic() - restarted
            if rebuilt_version is not None and version is not None and version >= rebuilt_version and name not in rebuilt:
                rebuilt[name] = time.monotonic() - restarted
        time.sleep(0.25)
    after = {"A": serving_version(a), "B": serving_version(b)}
    killed_run = psql(f"SELECT status || ' ' || coalesce(error, '') FROM job_runs WHERE id = {run_id}")
    left_building = int(psql(f"SELECT count(*) FROM model_versions WHERE status = 'building' AND version > {newest_before} "
                             f"AND version < {rebuilt_version or 0}"))
    rerun = psql(f"SELECT string_agg(job || ' ' || status || ' ' || coalesce(duration_ms, 0) / 1000.0, ', ' ORDER BY id) "
                 f"FROM job_runs WHERE id > {run_id}")
    if len(rebuilt) < 2:
        findings.append(f"the API did not serve a rebuilt model within {deadline_s:.0f} s of the restart "
                        f"(serving {after}, rebuilt version {rebuilt_version})")
    if not killed_run.startswith("failed") and not killed_run.startswith("cancelled"):
        findings.append(f"the killed job run {run_id} is '{killed_run}' after the restart")
    if left_building:
        findings.append(f"{left_building} model versions of the killed build are still 'building'")
    result = {
        "similarities_started_after_s": round(similarities_started - asked, 2),
        "killed_into_build_s": round(killed - similarities_started, 2), "run_state_at_kill": state_at_kill,
        "building_versions_at_kill": building, "serving_before": before, "serving_at_kill": at_kill,
        "published_at_kill": published_at_kill,
        "served_during_gap": served_during, "gap_s": gap_s, "gap_answers": dict(gap),
        "similarity_parts_before": {p: parts_before[p] for p in similarity_parts},
        "first_newer_s": {k: round(v, 2) for k, v in first_newer.items()},
        "rebuilt_s": {k: round(v, 2) for k, v in rebuilt.items()}, "rebuilt_version": rebuilt_version,
        "serving_after": after, "killed_run_after_restart": killed_run, "rerun_jobs": rerun,
        "findings": findings, "pass": not findings,
    }
    save("refresher", result)
    log(json.dumps({k: result[k] for k in ("serving_before", "serving_at_kill", "served_during_gap", "gap_answers",
                                             "first_newer_s", "rebuilt_s", "serving_after", "killed_run_after_restart",
                                             "rerun_jobs", "findings")}))


# ---------------------------------------------------------------------------------------------------------------------
# 4. Malformed requests

BASE_BODIES = {
    ("POST", "/popular"): {"user_params": {"gender": "f", "age": "25-34", "category": "electronics", "geo_id": 1},
                           "filters": {"price_from": 0, "price_to": 2000, "category": "electronics"},
                           "pagination": {"page": 1, "limit": 5}},
    ("POST", "/personalized"): {"user_id": 123, "geo_id": 1, "filters": {"price_from": 0, "price_to": 2000},
                                "pagination": {"page": 1, "limit": 5}},
    ("POST", "/personalized/batch"): {"user_ids": [1, 2, 3], "limit": 5},
    ("POST", "/interactions"): {"user_id": 900001, "item_id": 42, "type": "rating", "value": 4,
                                "event_id": "malformed", "occurred_at": "2026-01-01T00:00:00Z"},
    ("POST", "/feedback"): {"user_id": 900001, "item_id": 42, "rating": 5, "event_id": "malformed"},
    ("PUT", "/items/{id}"): {"title": "Desk lamp", "category": "home", "tags": ["light", "gift"], "price": 39.9,
                             "geo_id": None, "active": True},
    ("PUT", "/users/{id}"): {"gender": "f", "age": "25-34", "geo_id": 1},
}

RAW = "\u2063raw\u2063"  # marks a value to splice into the JSON text verbatim

WRONG_TYPES = ["5", True, False, [], {}, 1.5, "", "abc", [1, 2], {"a": 1}, None, -0.0]
NEGATIVE = [-1, 0, -9223372036854775808, -2147483649, -0.5]
HUGE = [RAW + "9223372036854775807", RAW + "9223372036854775808", RAW + "1e309", RAW + "1e400", RAW + "-1e309",
        RAW + "123456789012345678901234567890", RAW + "2147483648", RAW + "1e30", RAW + "79228162514264337593543950336",
        RAW + "0.0000000000000000000000000000000000001", RAW + "1" + "0" * 400, "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z", "x" * 5000]
NUL_STRINGS = ["a\u0000b", "\u0000", "view\u0000", "f\u0000", "25-34\u0000", "home\u0000lamp", "\u0000" * 50]


def leaf_paths(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaf_paths(v, path + (k,))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from leaf_paths(v, path + (i,))
    else:
        yield path


def with_value(value, path, new):
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


def to_json(value):
    text = json.dumps(value, ensure_ascii=False)
    return re.sub('"' + RAW + r'([^"]*)"', lambda m: m.group(1), text).encode()


def malformed_cases(rnd, count):
    """count (category, method, target, headers, body) tuples, categories in turn."""
    endpoints = list(BASE_BODIES)

    def target_of(method, path):
        return path.replace("{id}", str(900000 + rnd.randint(1, 999)))

    def body_case(mutate):
        method, path = rnd.choice(endpoints)
        base = BASE_BODIES[(method, path)]
        return method, target_of(method, path), {"Content-Type": "application/json"}, mutate(base)

    def bad_json():
        def mutate(base):
            text = to_json(base)
            choice = rnd.randrange(14)
            if choice == 0:
                return text[:rnd.randrange(len(text))]
            if choice == 1:
                i = rnd.randrange(len(text))
                return text[:i] + text[i + 1:]
            if choice == 2:
                i = rnd.randrange(len(text))
                return text[:i] + rnd.choice([b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\"]) + text[i:]
            if choice == 3:
                return text.replace(b'"', b"'")
            if choice == 4:
                return text + rnd.choice([b" x", b"{}", b"]", b",", b" null", text])
            if choice == 5:
                return rnd.choice([b"", b" ", b"null", b"[]", b"[null]", b'"text"', b"123", b"true", b"{}", b"[[]]"])
            if choice == 6:
                depth = rnd.choice([65, 1000, 20000])
                return b"[" * depth + b"]" * depth
            if choice == 7:
                return b'{"a":' * 200 + b"1" + b"}" * 200
            if choice == 8:
                return text.replace(b'"', b'"\xff\xfe', 1)
            if choice == 9:
                return text[:-1] + b",}"
            if choice == 10:
                return b"/* comment */" + text
            if choice == 11:
                return text.replace(b":", b":NaN,\"x\":", 1)
            if choice == 12:
                return bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 200)))
            return b"\xef\xbb\xbf" + text  # BOM
        return ("bad_json",) + body_case(mutate)

    def field_case(category, values):
        def mutate(base):
            path = rnd.choice(list(leaf_paths(base)))
            return to_json(with_value(base, path, rnd.choice(values)))
        return (category,) + body_case(mutate)

    def unknown_fields():
        def mutate(base):
            copy = json.loads(json.dumps(base))
            choice = rnd.randrange(4)
            if choice == 0:
                copy[f"bogus_{rnd.randrange(1000)}"] = rnd.choice([1, "x", None, [], {"y": 2}])
            elif choice == 1:
                copy["__proto__"] = {"admin": True}
            elif choice == 2:
                copy["USER_ID" if "user_id" in copy else "Title"] = 5
            else:
                inner = [k for k, v in copy.items() if isinstance(v, dict)]
                (copy[rnd.choice(inner)] if inner else copy)["extra"] = "field"
            return to_json(copy)
        return ("unknown_field",) + body_case(mutate)

    def content_type():
        method, path = rnd.choice(endpoints)
        body = to_json(BASE_BODIES[(method, path)])
        kind = rnd.choice(["text/plain", "application/xml", "multipart/form-data; boundary=xyz",
                           "application/x-www-form-urlencoded", None, "application/json; charset=utf-16",
                           "application/jsonx", "*/*", "application/json; charset=latin1", "image/png", ""])
        headers = {} if kind is None else {"Content-Type": kind}
        if kind == "application/xml":
            body = b"<request><user_id>1</user_id></request>"
        elif kind == "application/x-www-form-urlencoded":
            body = b"user_id=1&item_id=2&type=view"
        elif kind and "utf-16" in kind:
            body = body.decode().encode("utf-16")
        elif kind and kind.startswith("multipart"):
            body = b"--xyz\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n1\r\n--xyz--\r\n"
        return ("content_type", method, target_of(method, path), headers, body)

    def oversized():
        choice = rnd.randrange(5)
        json_type = {"Content-Type": "application/json"}
        if choice == 0:
            event = b'{"user_id":900001,"item_id":42,"type":"view"},'
            n = (1024 * 1024) // len(event) + rnd.randint(10, 30000)
            return ("oversized", "POST", "/interactions", json_type, b"[" + event * n + event[:-1] + b"]")
        if choice == 1:
            event = b'{"user_id":900001,"item_id":42,"type":"view"},'
            return ("oversized", "POST", "/interactions", json_type, b"[" + event * 1001 + event[:-1] + b"]")
        if choice == 2:
            return ("oversized", "POST", "/popular", json_type,
                    b'{"user_params":{"category":"' + b"x" * (1024 * 1024 + rnd.randint(1, 500000)) + b'"}}')
        if choice == 3:
            return ("oversized", "POST", "/personalized/batch", json_type,
                    to_json({"user_ids": list(range(1, rnd.randint(102, 5000))), "limit": 5}))
        return ("oversized", "GET", "/users/1/recommendations?category=" + "x" * rnd.choice([9000, 40000]),
                {"X-Padding": "y" * rnd.choice([100, 40000])}, None)

    def bad_query():
        query = rnd.choice([
            "limit=abc", "limit=-5", "limit=0", "limit=101", "limit=99999999999", "page=0", "page=-1", "page=abc",
            "price_from=abc", "price_from=-1", "price_from=5&price_to=1", "category=", "category=%20%20",
            "category=a%00b", "category=%zz", "limit=1&limit=2", "limit=%20", "geo_id=x", "geo_id=-3",
            "price_from=1e400", "price_to=79228162514264337593543950336", "category=" + "c" * 200, "&&&==",
            "limit=1.5", "limit=", "page=2147483648", "category=%ff%fe", "category=%u0041", "price_from=NaN",
            "price_to=Infinity", "limit=0x10", "limit=%2B5", "geo_id=99999999999"])
        path = rnd.choice(["/users/{u}/recommendations", "/items/{u}/similar"]).replace("{u}", str(rnd.randint(1, 500)))
        if rnd.random() < 0.3:
            bad_id = rnd.choice(["abc", "-1", "0", "1.5", "99999999999999999999", "%00", "%2F", " 1", "+1", "0x10",
                                 "1e3", "%D9%A1%D9%A2", "9223372036854775808", "-9223372036854775808", "%20"])
            path = rnd.choice(["/users/{u}/recommendations", "/items/{u}/similar", "/items/{u}", "/users/{u}"]).replace(
                "{u}", bad_id)
            method = "PUT" if path.startswith("/users/") and not path.endswith("recommendations") else rnd.choice(
                ["GET", "GET", "DELETE"] if path.startswith("/items/") and not path.endswith("similar") else ["GET"])
            body = to_json(BASE_BODIES[("PUT", "/users/{id}")]) if method == "PUT" else None
            return ("bad_query", method, path + "?" + query, {"Content-Type": "application/json"} if body else {}, body)
        return ("bad_query", "GET", path + "?" + query, {}, None)

    def negative_path():
        bad = rnd.choice(["-1", "0", "-9223372036854775808", "-5"])
        path = rnd.choice(["/users/{u}/recommendations", "/items/{u}/similar", "/items/{u}"]).replace("{u}", bad)
        return ("negative_id", "GET", path, {}, None)

    def wrong_method():
        method, path = rnd.choice([("GET", "/popular"), ("PATCH", "/personalized"), ("GET", "/interactions"),
                                   ("DELETE", "/stats"), ("PUT", "/feedback"), ("POST", "/users/1/recommendations"),
                                   ("POST", "/items/1/similar"), ("PATCH", "/items/1"), ("TRACE", "/health"),
                                   ("POST", "/health"), ("GET", "/personalized/batch")])
        return ("wrong_method", method, path, {"Content-Type": "application/json"}, b"{}")

    generators = [
        bad_json, bad_json,
        lambda: field_case("wrong_type", WRONG_TYPES), lambda: field_case("wrong_type", WRONG_TYPES),
        lambda: field_case("negative_id", NEGATIVE), negative_path,
        lambda: field_case("huge_number", HUGE), lambda: field_case("huge_number", HUGE),
        unknown_fields, content_type, content_type, oversized, bad_query, bad_query,
        lambda: field_case("nul_in_json", NUL_STRINGS), lambda: field_case("nul_in_json", NUL_STRINGS),
        lambda: ("nul_in_json",) + body_case(lambda base: to_json(base).replace(b'"', b'"\x00', 3)),
        wrong_method,
    ]
    for i in range(count):
        yield generators[i % len(generators)]()


def raw_request(base, method, target, headers, body, timeout=15):
    """One request on a fresh connection, bytes as given; (status or None, headers, body, seconds, error)."""
    url = urllib.parse.urlsplit(base)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {url.hostname}:{url.port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    started, error, data = time.monotonic(), None, b""
    sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
    try:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError) as ex:
            error = f"send: {ex.__class__.__name__}"
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout) as ex:
            error = (error + "; " if error else "") + f"recv: {ex.__class__.__name__}"
    finally:
        sock.close()
    seconds = time.monotonic() - started
    head, _, payload = data.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    if not match:
        return None, {}, data, seconds, error or "no status line"
    answer_headers = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        answer_headers[k.strip().lower()] = v.strip()
    return int(match.group(1)), answer_headers, payload, seconds, None


def malformed(_):
    total, workers = env_int("MALFORMED_REQUESTS", 5000), env_int("MALFORMED_WORKERS", 4)
    cases = list(malformed_cases(random.Random(env_int("MALFORMED_SEED", 7)), total))
    work = queue.Queue()
    for i, case in enumerate(cases):
        work.put((i, case))
    results = [None] * total

    def worker():
        while True:
            try:
                i, (category, method, target, headers, body) = work.get_nowait()
            except queue.Empty:
                return
            base = A if i % 2 == 0 else B
            try:
                results[i] = raw_request(base, method, target, headers, body)
            except OSError as ex:
                results[i] = (None, {}, b"", 0.0, f"connect: {ex!r}")

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started

    by_status, by_category = collections.Counter(), collections.defaultdict(collections.Counter)
    not_problem, bare_examples, server_errors, no_answer = collections.Counter(), collections.Counter(), [], []
    content_types = collections.defaultdict(collections.Counter)
    for (category, method, target, headers, body), (status, answer_headers, payload, seconds, error) in zip(cases, results):
        key = str(status) if status is not None else "no_answer"
        by_status[key] += 1
        by_category[category][key] += 1
        if category == "content_type":
            content_types[headers.get("Content-Type", "(none)")][key] += 1
        example = {"category": category, "method": method, "target": target[:200], "headers": headers,
                   "body": (body or b"")[:300].decode("utf-8", "replace"), "body_bytes": len(body or b""),
                   "status": status, "answer": payload[:500].decode("utf-8", "replace"), "error": error}
        if status is None:
            no_answer.append(example)
        elif status >= 500:
            server_errors.append(example)
        elif status >= 400 and not answer_headers.get("content-type", "").startswith("application/problem+json"):
            path = target.split("?")[0]
            # Kestrel's own answers, before any application code: a request line it cannot parse (a raw space in the
            # target), an encoded NUL in the path, a request line or headers over its limits.
            kestrel = " " in target or "%00" in path or status in (414, 431)
            not_problem[f"{status} {category}{' (Kestrel)' if kestrel else ''}"] += 1
            bare_examples[f"{status} {method} {target[:80]}"] += 1
    alive = [Http(base).call("GET", "/alive").status for base in (A, B)]
    findings = []
    unexplained = {k: v for k, v in not_problem.items() if "(Kestrel)" not in k}
    if unexplained:
        findings.append(f"4xx answers without a problem body from the API itself: {unexplained}")
    if server_errors:
        findings.append(f"{len(server_errors)} answers were 5xx: "
                        f"{dict(collections.Counter((e['status'], e['category']) for e in server_errors))}")
    if alive != [200, 200]:
        findings.append(f"/alive after the malformed requests: {alive}")
    result = {
        "requests": total, "seconds": round(elapsed, 1), "by_status": dict(sorted(by_status.items())),
        "by_category": {k: dict(v) for k, v in sorted(by_category.items())},
        "server_errors": len(server_errors), "server_error_examples": server_errors[:20],
        "no_answer": len(no_answer), "no_answer_examples": no_answer[:10],
        "errors_without_problem_body": dict(not_problem),
        "content_type_answers": {k: dict(v) for k, v in sorted(content_types.items())},
        "bare_examples": dict(bare_examples.most_common(20)),
        "alive_after": alive, "findings": findings, "pass": not findings,
    }
    save("malformed", result)
    log(json.dumps({k: result[k] for k in ("requests", "seconds", "by_status", "server_errors", "no_answer",
                                             "errors_without_problem_body", "findings")}))
    for e in server_errors[:5]:
        log(f"5xx example: {json.dumps(e)[:800]}")


# ---------------------------------------------------------------------------------------------------------------------
# 5. Concurrent duplicates

def duplicates(_):
    rounds, concurrency = env_int("DUP_ROUNDS", 5), env_int("DUP_CONCURRENCY", 40)
    per_round, findings = [], []
    for round_no in range(1, rounds + 1):
        event = {"user_id": 900100 + round_no, "item_id": 42, "type": "purchase",
                 "event_id": f"{RUN_ID}-p5-{round_no}"}
        apis = [Http(A if i % 2 == 0 else B) for i in range(concurrency)]
        for api in apis:
            api.connect()
        barrier, answers = threading.Barrier(concurrency), [None] * concurrency

        def post(i):
            barrier.wait()
            try:
                answer = apis[i].call("POST", "/interactions", event, retry=False)
                answers[i] = (answer.status, answer.json(), answer.seconds)
            except (OSError, http.client.HTTPException) as ex:
                answers[i] = (None, {"error": repr(ex)}, None)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for api in apis:
            api.close()
        rows = int(psql(f"SELECT count(*) FROM interactions WHERE event_id = '{event['event_id']}'"))
        statuses = collections.Counter(str(a[0]) for a in answers)
        accepted = sum((a[1] or {}).get("accepted", 0) for a in answers if a[0] == 202)
        dups = sum((a[1] or {}).get("duplicates", 0) for a in answers if a[0] == 202)
        spread = [a[2] for a in answers if a[2] is not None]
        per_round.append({"event_id": event["event_id"], "rows": rows, "statuses": dict(statuses),
                          "accepted": accepted, "duplicates": dups, "ms_max": ms(max(spread) if spread else None)})
        if rows != 1 or statuses != collections.Counter({"202": concurrency}) or accepted != 1 or dups != concurrency - 1:
            findings.append(f"round {round_no}: {rows} rows, answers {dict(statuses)}, accepted {accepted}, "
                            f"duplicates {dups}")
    result = {"rounds": rounds, "concurrency": concurrency, "per_round": per_round,
              "rows_per_event": sorted({r["rows"] for r in per_round}),
              "answers": dict(sum((collections.Counter(r["statuses"]) for r in per_round), collections.Counter())),
              "accepted_total": sum(r["accepted"] for r in per_round),
              "duplicates_total": sum(r["duplicates"] for r in per_round),
              "findings": findings, "pass": not findings}
    save("duplicates", result)
    log(json.dumps({k: result[k] for k in ("rows_per_event", "answers", "accepted_total", "duplicates_total",
                                             "findings")}))


# ---------------------------------------------------------------------------------------------------------------------
# 6. Admin brute force with the operator alongside

LOG_ENTRY = re.compile(r"^(trce|dbug|info|warn|fail|crit): ")
AGGREGATE = re.compile(r"(\d+) admin requests without a valid key from (\S+) in the last window \((\d+) of them refused")


def log_lines(path):
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def admin(_):
    attempts, attackers = env_int("ADMIN_ATTEMPTS", 2000), env_int("ADMIN_ATTACKERS", 4)
    api_log = os.path.join(WORK, "api-a.log")
    lines_before = len(log_lines(api_log))
    routes = [("GET", "/admin/cache/stats"), ("POST", "/admin/refresh/all"), ("GET", "/admin/console/jobs"),
              ("GET", "/admin/experiments"), ("POST", "/admin/cache/clear"), ("GET", "/admin/console/users/123")]
    operator_routes = [("GET", "/admin/cache/stats"), ("GET", "/admin/console/jobs"), ("GET", "/admin/experiments")]
    attempts_left, lock = [attempts], threading.Lock()
    refusals, operator, stop = [], [], threading.Event()
    started = time.monotonic()

    def attacker(index):
        api, rnd = Http(A), random.Random(index)
        while True:
            with lock:
                if attempts_left[0] == 0:
                    return
                attempts_left[0] -= 1
                n = attempts - attempts_left[0]
            method, path = routes[n % len(routes)]
            headers = {} if n % 2 == 0 else {"X-Admin-Key": f"guess-{rnd.randrange(10**9)}"}
            answer = api.call(method, path, headers=headers)
            refusals.append({"t": time.monotonic() - started, "status": answer.status, "keyless": n % 2 == 0,
                             "problem": answer.problem, "retry_after": answer.retry_after})

    def operator_loop():
        api, n = Http(A), 0
        while not stop.is_set():
            method, path = operator_routes[n % len(operator_routes)]
            n += 1
            try:
                answer = api.call(method, path, headers={"X-Admin-Key": ADMIN_KEY})
                operator.append({"status": answer.status, "seconds": answer.seconds})
            except (OSError, http.client.HTTPException) as ex:
                operator.append({"status": None, "seconds": None, "error": repr(ex)})
            stop.wait(0.02)

    op = threading.Thread(target=operator_loop, daemon=True)
    op.start()
    threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(attackers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)
    stop.set()
    op.join(10)
    elapsed = time.monotonic() - started
    lines = log_lines(api_log)[lines_before:]
    entries = [l for l in lines if LOG_ENTRY.match(l)]
    categories = collections.Counter(l.split(" ", 1)[1].split("[")[0] if " " in l else l for l in entries)
    with open(os.path.join(RESULTS, "admin-log-during.txt"), "w") as f:
        f.write("\n".join(lines))

    refusals.sort(key=lambda r: r["t"])
    statuses = collections.Counter(str(r["status"]) for r in refusals)
    first_429 = next((i for i, r in enumerate(refusals) if r["status"] == 429), None)
    leading_401 = first_429 if first_429 is not None else len(refusals)
    allowed_401 = 20 + 10 * (int(elapsed // 60) + 1)
    bad = [r for r in refusals if r["status"] not in (401, 429)]
    bad_429 = [r for r in refusals if r["status"] == 429 and not (r["problem"] and r["retry_after"])]
    op_statuses = collections.Counter(str(o["status"]) for o in operator)
    op_times = [o["seconds"] for o in operator if o["seconds"] is not None]
    findings = []
    if bad:
        findings.append(f"wrong/keyless requests answered {dict(collections.Counter(r['status'] for r in bad))}")
    if statuses.get("401", 0) > allowed_401:
        findings.append(f"{statuses.get('401')} answers 401 in {elapsed:.0f} s (the budget allows {allowed_401})")
    if first_429 is None:
        findings.append("no 429 after the burst")
    if bad_429:
        findings.append(f"{len(bad_429)} 429 answers without a problem body and Retry-After")
    if op_statuses != collections.Counter({"200": len(operator)}):
        findings.append(f"operator with the right key answered {dict(op_statuses)}")
    if len(entries) > attempts // 100:
        findings.append(f"the API logged {len(entries)} entries ({len(lines)} lines) during the {attempts} failures: "
                        f"{dict(categories.most_common(3))}")
    result = {"attempts": attempts, "seconds": round(elapsed, 1), "answers": dict(statuses),
              "leading_401": leading_401, "allowed_401": allowed_401,
              "keyless_answers": dict(collections.Counter(str(r["status"]) for r in refusals if r["keyless"])),
              "wrong_key_answers": dict(collections.Counter(str(r["status"]) for r in refusals if not r["keyless"])),
              "operator_requests": len(operator), "operator_answers": dict(op_statuses),
              "operator_ms_max": ms(max(op_times) if op_times else None),
              "operator_ms_p50": ms(percentile(op_times, 50)),
              "log_lines_during": len(lines), "log_entries_during": len(entries),
              "log_categories_during": dict(categories.most_common(5)),
              "log_offset_before": lines_before, "ended_epoch": time.time(),
              "findings": findings, "pass": not findings}
    save("admin", result)
    log(json.dumps({k: result[k] for k in ("answers", "leading_401", "operator_requests", "operator_answers",
                                             "log_lines_during", "log_entries_during", "findings")}))


def adminlog(_):
    """The aggregated warning(s) for the admin phase's failures: wait for the per-minute flush if it has not come yet."""
    with open(os.path.join(RESULTS, "admin.json")) as f:
        result = json.load(f)
    api_log = os.path.join(WORK, "api-a.log")
    deadline = result["ended_epoch"] + 75
    while True:
        lines = log_lines(api_log)[result["log_offset_before"]:]
        matches = [AGGREGATE.search(l) for l in lines]
        found = [(int(m.group(1)), m.group(2), int(m.group(3))) for m in matches if m]
        counted = sum(f[0] for f in found)
        if counted >= result["attempts"] or time.time() > deadline:
            break
        time.sleep(1)
    text = [l.strip() for l in lines if AGGREGATE.search(l)]
    result["aggregate_lines"] = text
    result["aggregate_counted"] = counted
    result["aggregate_refused"] = sum(f[2] for f in found)
    if counted != result["attempts"]:
        result["findings"].append(f"the aggregated warnings count {counted} failures, {result['attempts']} were sent")
    result["pass"] = not result["findings"]
    save("admin", result)
    log(f"aggregated warnings: {text}")


# ---------------------------------------------------------------------------------------------------------------------
# 7. Soak

def proc_threads(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except FileNotFoundError:
        return None


def soak(_):
    duration = seconds_of(ENV.get("SOAK_DURATION", "5m"))
    connections, rate = env_int("SOAK_CONNECTIONS", 8), env_float("SOAK_RATE", 200)
    delay_ms = max(0, int(connections * 1000 / rate))
    pids = {}
    for name in ("a", "b"):
        with open(os.path.join(WORK, f"api-{name}.pid")) as f:
            pids[name.upper()] = int(f.read())
    rss = {name: [] for name in pids}

    def sample(minute):
        for name, pid in pids.items():
            rss[name].append({"minute": minute, "mb": rss_mb(pid), "threads": proc_threads(pid)})

    processes = {}
    for name, base in (("A", A), ("B", B)):
        env = dict(ENV, FAULTS_MODE="mixed", FAULTS_DELAY_MS=str(delay_ms), FAULTS_RUN=f"{RUN_ID}-p7",
                   FAULTS_LABEL=name, FAULTS_USER_OFFSET="10000" if name == "A" else "35000")
        processes[name] = subprocess.Popen(
            ["wrk", "--timeout", "10s", f"-t{connections}", f"-c{connections}", f"-d{int(duration)}s",
             "-s", os.path.join(HERE, "load.lua"), base + "/"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    log(f"soak: {duration:.0f} s on A and B, {connections} connections each, a request every {delay_ms} ms per "
        f"connection (about {rate:.0f}/s per instance)")
    sample(0)
    minute = 1
    while any(p.poll() is None for p in processes.values()):
        if time.monotonic() - started >= minute * 60 and minute * 60 < duration:
            sample(minute)
            log(f"minute {minute}: RSS A {rss['A'][-1]['mb']} MB, B {rss['B'][-1]['mb']} MB (load {load_avg()})")
            minute += 1
        time.sleep(0.5)
    sample(round((time.monotonic() - started) / 60, 2))
    results, error_kinds = {}, {}
    for name, p in processes.items():
        out = p.stdout.read()
        result_line = next((l for l in out.splitlines() if l.startswith("RESULT ")), None)
        errors_line = next((l for l in out.splitlines() if l.startswith("ERRORS")), "ERRORS")
        if result_line is None:
            raise RuntimeError(f"wrk on {name} printed no RESULT line:\n{out}")
        results[name] = {k: float(v) for k, v in (kv.split("=") for kv in result_line.split()[1:])}
        kinds = collections.Counter()
        for kv in errors_line.split()[1:]:
            k, v = kv.split("=")
            kinds[k] += int(v)
        error_kinds[name] = dict(kinds)
    healthy = wait_healthy([A, B], 10)
    errors = {name: int(r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]) for name, r in results.items()}
    findings = []
    if any(errors.values()):
        findings.append(f"errors (non-2xx or socket): {errors}, by kind {error_kinds}")
    if None in healthy:
        findings.append(f"not Healthy after the soak: A {healthy[0]}, B {healthy[1]}")
    growth = {name: (s[-1]["mb"] - s[0]["mb"]) if s and s[0]["mb"] and s[-1]["mb"] else None for name, s in rss.items()}
    result = {"duration_s": duration, "connections": connections, "delay_ms": delay_ms, "wrk": results,
              "requests": int(sum(r["requests"] for r in results.values())),
              "rps": round(sum(r["rps"] for r in results.values()), 1),
              "errors": errors, "error_kinds": error_kinds,
              "p99_ms": {n: r["p99"] for n, r in results.items()}, "p50_ms": {n: r["p50"] for n, r in results.items()},
              "max_ms": {n: r["max"] for n, r in results.items()},
              "rss_mb": {n: [s["mb"] for s in v] for n, v in rss.items()}, "rss_growth_mb": growth,
              "threads": {n: [s["threads"] for s in v] for n, v in rss.items()},
              "findings": findings, "pass": not findings}
    save("soak", result)
    log(json.dumps({k: result[k] for k in ("requests", "rps", "errors", "p50_ms", "p99_ms", "max_ms", "rss_mb",
                                             "findings")}))


# ---------------------------------------------------------------------------------------------------------------------
# A service that exited on its own

def died(args):
    """Records that a service (api-a, api-b, refresher) exited unexpectedly, with the log entry that says why."""
    path = os.path.join(WORK, args.service + ".log")
    lines = log_lines(path) if os.path.exists(path) else []
    tail_from = max(0, len(lines) - 400)
    failures = [i for i in range(tail_from, len(lines)) if lines[i].startswith(("fail:", "crit:"))]
    if failures:
        # The first failure of the end of the log is the cause; the host's 'crit' line follows it.
        block = [lines[failures[0]].strip()]
        for line in lines[failures[0] + 1:failures[0] + 40]:
            if line.startswith(("info:", "warn:", "fail:", "crit:", "dbug:", "trce:")):
                break
            text = line.strip()
            if not text.startswith("at ") or "RecApp" in text:
                block.append(text)
        why = " | ".join(block[:8])[:1500]
    else:
        why = "no fail/crit entry at the end of its log; last lines: " + " | ".join(l.strip() for l in lines[-3:])
    exits_path = os.path.join(RESULTS, "exits.json")
    exits = json.load(open(exits_path)) if os.path.exists(exits_path) else []
    exits.append({"when": args.when, "service": args.service, "log": why, "epoch": time.time()})
    with open(exits_path, "w") as f:
        json.dump(exits, f, indent=1)
    log(f"{args.service} exited ({args.when}): {why[:600]}")


# ---------------------------------------------------------------------------------------------------------------------
# Summary

def summary(args):
    directory = args.results
    meta = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(directory, "meta")) if "=" in line)

    def read(name):
        path = os.path.join(directory, name + ".json")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def fmt(counter):
        return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

    rows = []

    def row(number, title, name, describe):
        r = read(name)
        if r is None:
            error = meta.get(f"error_{name}", "did not run")
            rows.append(f"| {number} | {title} | – | **did not complete**: {error} | **FAIL** |")
            return
        try:
            text = describe(r)
        except (KeyError, TypeError, ValueError) as ex:
            text = f"(incomplete result: {ex!r})"
        verdict = "pass" if r.get("pass") else "**FAIL**"
        if r.get("findings"):
            text += "; **findings:** " + " / ".join(r["findings"])
        rows.append(f"| {number} | {title} | {r.get('load')} | {text} | {verdict} |")

    row(1, "Database killed under writers", "dbkill", lambda r: (
        f"{r['writers']} writers, {r['duration_s']:.0f} s, PostgreSQL SIGKILLed at {r['kill_at_s']:.1f} s and accepting "
        f"again {r['down_s']:.1f} s later; {r['requests']} writes: **{r['acknowledged']} acknowledged, "
        f"{r['stored']} stored, {r['lost']} lost**; {r['refused']} refused ({fmt(r['refused_by_status'])}; "
        f"{fmt(r['refused_by_kind'])}), {r['refusals_not_503_problem_retry_after']} not a 503 problem with Retry-After, "
        f"{r['nothing_stored_but_stored']} 'nothing stored' found stored, "
        f"{r['stored_not_acknowledged']} stored but not acknowledged; refusal p50 {r['refusal_ms_p50']} ms, "
        f"max {r['refusal_ms_max']} ms; first 202 after the restart: "
        f"{', '.join(f'{k} {v} s' for k, v in sorted(r['first_ack_after_ready_s'].items()))}; "
        f"refused events retried with their event_id: {fmt(r['retried'])} → {r['stored_after_retry']}/{r['sent']} stored"))
    row(2, "Database frozen under reads", "freeze", lambda r: (
        f"{r['freeze_s']:.0f} s SIGSTOP; cache hits {r['baseline']['hits']['rps']:.0f} → "
        f"**{r['during']['hits']['rps']:.0f} req/s** (p99 {r['during']['hits']['p99']:.1f} ms, "
        f"{int(r['during']['hits']['non2xx'])} non-2xx), misses {r['baseline']['misses']['rps']:.0f} → "
        f"**{r['during']['misses']['rps']:.0f} req/s** (p99 {r['during']['misses']['p99']:.0f} ms, "
        f"{int(r['during']['misses']['non2xx'])} non-2xx); probed misses: {fmt(r['miss_answers'])} "
        f"(p50 {r['miss_ms_p50']} ms, max {r['miss_ms_max']} ms); "
        f"/health ×{r['health_calls']}: p50 {r['health_ms_p50']}, **max {r['health_ms_max']} ms** "
        f"({fmt(r['health_answers'])}); write ×{r['write_calls']}: **{r['write_ms_min']}–{r['write_ms_max']} ms** "
        f"({fmt(r['write_answers'])}); /stats ×{r['stats_calls']}: p50 {r['stats_ms_p50']}, "
        f"**max {r['stats_ms_max']} ms** ({fmt(r['stats_answers'])}); after SIGCONT "
        f"Healthy in **A {r['healthy_after_s']['A']} s, B {r['healthy_after_s']['B']} s**, a write accepted in "
        f"{r['write_accepted_after_s']} s; API threads before/peak in the freeze/after: "
        f"{', '.join(f'{n} ' + '/'.join(str(r['api_threads'][k][n]) for k in ('before', 'peak_during', 'after')) for n in ('A', 'B'))}"))
    row(3, "Refresher killed mid-build", "refresher", lambda r: (
        f"refresh/all asked; similarities job running after {r['similarities_started_after_s']} s, Refresher "
        f"kill -9 {r['killed_into_build_s']} s into it (run '{r['run_state_at_kill']}', "
        f"{r['building_versions_at_kill']} versions 'building'); API served v{r['serving_before']['A']} before; "
        f"v{r['published_at_kill']} the newest published at the kill (this refresh's popular and profiles); "
        f"**during the {r['gap_s']:.0f} s without Refresher A served {r['served_during_gap']['A']}, B "
        f"{r['served_during_gap']['B']}** ({fmt(r['gap_answers'])}), model_current unchanged; restarted: first "
        f"version newer than v{r['published_at_kill']} after "
        f"{', '.join(f'{k} {v} s' for k, v in sorted(r['first_newer_s'].items()))}, **rebuilt model "
        f"(v{r['rebuilt_version']}) served after {', '.join(f'{k} {v} s' for k, v in sorted(r['rebuilt_s'].items()))}**; "
        f"killed run → '{r['killed_run_after_restart'].strip()}'"))
    row(4, "Malformed requests", "malformed", lambda r: (
        f"{r['requests']} requests in {r['seconds']:.0f} s over both instances ({', '.join(r['by_category'])}): "
        f"{fmt(r['by_status'])}; **{r['server_errors']} 5xx**, {r['no_answer']} without an answer; "
        f"4xx without a problem body: {fmt(r['errors_without_problem_body']) or 'none'}; /alive after: "
        f"{r['alive_after']}"))
    row(5, "Concurrent duplicates", "duplicates", lambda r: (
        f"{r['rounds']} rounds × {r['concurrency']} concurrent POSTs of one event_id (both instances): "
        f"answers {fmt(r['answers'])}; **rows per event_id {r['rows_per_event']}**; accepted {r['accepted_total']}, "
        f"duplicates {r['duplicates_total']}"))
    row(6, "Admin brute force, operator alongside", "admin", lambda r: (
        f"{r['attempts']} wrong-key/keyless requests from 127.0.0.1 in {r['seconds']:.0f} s: {fmt(r['answers'])} "
        f"(first {r['leading_401']} were 401, then 429; budget {r['allowed_401']}; keyless {fmt(r['keyless_answers'])}, "
        f"wrong key {fmt(r['wrong_key_answers'])}); operator with the right key: "
        f"**{fmt(r['operator_answers'])}** of {r['operator_requests']} (p50 {r['operator_ms_p50']} ms, max "
        f"{r['operator_ms_max']} ms); API log during the attack: **{r['log_entries_during']} entries** "
        f"({r['log_lines_during']} lines); aggregated: "
        f"{' / '.join(r.get('aggregate_lines') or ['none'])}"))
    row(7, "Soak", "soak", lambda r: (
        (f"{r['duration_s'] / 60:.0f} min" if r["duration_s"] >= 60 else f"{r['duration_s']:.0f} s")
        + f" mixed reads/writes on A and B ({r['connections']} connections each), "
        f"{r['requests']} requests ({r['rps']:.0f}/s): **errors A {r['errors']['A']}, B {r['errors']['B']}**; "
        f"p50 A {r['p50_ms']['A']:.1f} / B {r['p50_ms']['B']:.1f} ms, **p99 A {r['p99_ms']['A']:.1f} / "
        f"B {r['p99_ms']['B']:.1f} ms**, max A {r['max_ms']['A']:.0f} / B {r['max_ms']['B']:.0f} ms; RSS once a minute "
        f"(MB): A {' → '.join(f'{v:.0f}' for v in r['rss_mb']['A'])}, B {' → '.join(f'{v:.0f}' for v in r['rss_mb']['B'])}"
        f"; threads A {min(r['threads']['A'])}–{max(r['threads']['A'])}, B {min(r['threads']['B'])}–"
        f"{max(r['threads']['B'])}"))

    exits_path = os.path.join(directory, "exits.json")
    exits = json.load(open(exits_path)) if os.path.exists(exits_path) else []
    if exits:
        rows.append("| 8 | Services stayed up (checked before and after every phase) | – | "
                    + " / ".join(f"**{e['service']} exited {e['when']}** (restarted): {e['log']}" for e in exits)
                    + " | **FAIL** |")
    else:
        rows.append("| 8 | Services stayed up (checked before and after every phase) | – | no API instance or "
                    "Refresher exited except the Refresher killed on purpose in phase 3 | pass |")

    print(f"date {meta.get('date')}, commit {meta.get('commit')}, machine {meta.get('cpus')} cores "
          f"({meta.get('machine', 'Debian 12')}), data {meta.get('data')}, load average at start "
          f"{meta.get('load_start')}, at end {meta.get('load_end') or cut_load()}; the load column is the 1-minute load average as each phase "
          f"ended; total {meta.get('elapsed', '?')}")
    print()
    print("| # | phase | load | measured | verdict |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(r)
    failed = [r for r in rows if r.endswith("**FAIL** |")]
    print()
    print(f"{len(rows) - len(failed)} of {len(rows)} rows passed.")
    return 3 if failed else 0


def cut_load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("dbkill", "freeze", "refresher", "malformed", "duplicates", "admin", "adminlog", "soak"):
        sub.add_parser(name)
    s = sub.add_parser("summary")
    s.add_argument("results")
    d = sub.add_parser("died")
    d.add_argument("when")
    d.add_argument("service")
    args = parser.parse_args()
    if args.command == "summary":
        sys.exit(summary(args))
    globals()[args.command](args)


if __name__ == "__main__":
    main()
