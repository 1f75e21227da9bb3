#!/usr/bin/env python3
"""The scale curve from bench/scale/run.sh's results, with the Python standard library only (no matplotlib).

  python3 bench/scale/plot.py RESULTS_DIR... [OUT.svg]   # draws the curve (default bench/scale/scale-curve.svg)
  python3 bench/scale/plot.py --table RESULTS_DIR...     # prints the markdown table run.sh prints

Each RESULTS_DIR holds `meta` and one directory per size with a `result` file (key=value lines); with several (runs of
different sizes, e.g. SIZES="S L" then SIZES="XL"), their sizes are merged, a later directory's size replacing an
earlier one's. The SVG has two panels,
both with x = interactions (log): seconds (log) of seed, rebuild, each job and the API's load-to-serve; and
megabytes (log) of each job's peak RSS, the Refresher's VmHWM, the API's RSS after loading and the snapshot's bytes
in PostgreSQL. A size that failed contributes what it measured; a step cut by the time limit is an open triangle at
the time it had reached (a lower bound). A dashed grey line of slope 1 through the first rebuild point shows linear
growth.
"""
import html
import math
import os
import sys

JOBS = ["popular", "profiles", "similarities", "cleanup"]
SIZE_ORDER = {"tiny": 0, "S": 1, "L": 2, "XL": 3}


def read_kv(path):
    values = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "=" in line:
                    key, value = line.rstrip("\n").split("=", 1)
                    values[key] = value
    return values


def read_results(directories):
    """(metas, sizes): each directory's meta, and every size's result (the last directory holding a size wins)."""
    by_size, metas = {}, []
    for directory in directories:
        meta = read_kv(os.path.join(directory, "meta"))
        metas.append(meta)
        for name in sorted(os.listdir(directory)):
            result = os.path.join(directory, name, "result")
            if os.path.isfile(result):
                values = read_kv(result)
                values["run_date"] = meta.get("date", "?")
                by_size[values.get("size", name)] = values
    sizes = sorted(by_size.values(), key=lambda r: (SIZE_ORDER.get(r.get("size", ""), 99), num(r, "interactions") or 0))
    return metas, sizes


def describe(metas):
    return "; ".join(
        f"{m.get('date', '?')} (sizes {m.get('sizes', '?')}), commit {m.get('commit', '?')}, {m.get('cpus', '?')} CPUs, "
        f"{m.get('memory_gb', '?')} GB, nice {m.get('nice', '?')}, load average {m.get('load_start', '?')} at the start, "
        f"{m.get('load_end', '?')} at the end" for m in metas)


def num(result, key):
    try:
        value = result.get(key, "")
        return float(value) if value != "" else None
    except ValueError:
        return None


def interactions(result):
    """Measured rows when the seed finished, else the size's nominal count."""
    nominal = {"tiny": 9_000, "S": 1_400_000, "L": 5_000_000, "XL": 50_000_000}
    return num(result, "interactions") or nominal.get(result.get("size"))


# ---------------------------------------------------------------- table

def fmt(value, digits=1):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def table(directories):
    metas, sizes = read_results(directories)
    lines = [
        f"Scale curve: {describe(metas)}.",
        "",
        "| size | items | users | interactions | seed s | rebuild s (jobs' span / process wall) | popular s | profiles s "
        "| similarities s | cleanup s | peak RSS popular / profiles / similarities MB | Refresher VmHWM MB "
        "| snapshot MB (rows) | API load-to-serve s | publish-to-serve s | API RSS MB (after misses; 25 s idle) | miss p95 ms (req/s) "
        "| load avg seed / rebuild / API |",
        "|" + "---|" * 18,
    ]
    notes = []
    for r in sizes:
        size = r.get("size", "?")
        failed = r.get("status") != "ok"
        rebuild = f"{fmt(num(r, 'rebuild_s'))} / {fmt(num(r, 'rebuild_wall_s'))}"
        if num(r, "rebuild_at_least_s") is not None:
            rebuild = f"> {fmt(num(r, 'rebuild_at_least_s'))} (limit)"
        jobs = []
        for job in JOBS:
            seconds = fmt(num(r, f"job_{job}_s"))
            if r.get("timeout_job") == job:
                seconds = f"> {fmt(num(r, 'timeout_job_elapsed_s'), 0)} (running at the limit)"
            jobs.append(seconds)
        peaks = " / ".join(fmt(num(r, f"job_{job}_peak_mb"), 0) for job in JOBS[:3])
        snapshot = "–"
        if num(r, "snapshot_bytes") is not None:
            snapshot = f"{num(r, 'snapshot_bytes') / 1048576:,.0f} ({num(r, 'snapshot_rows'):,.0f})"
        api_rss = "–"
        if num(r, "api_rss_mb") is not None:
            api_rss = f"{fmt(num(r, 'api_rss_mb'), 0)} ({fmt(num(r, 'api_rss_after_miss_mb'), 0)}; {fmt(num(r, 'api_rss_idle_mb'), 0)})"
        miss = "–"
        if num(r, "miss_p95_ms") is not None:
            miss = f"{fmt(num(r, 'miss_p95_ms'), 2)} ({fmt(num(r, 'miss_rps'), 0)})"
        publish = fmt(num(r, "publish_to_serve_s"))
        if r.get("publish_to_serve_by_version"):  # each job's parts: popular, profiles, similarities
            publish += f" (per version: {r['publish_to_serve_by_version']})"
        loads = " / ".join(r.get(k, "–") or "–" for k in ("load_seed", "load_rebuild", "load_api"))
        cells = [
            size + (" **FAILED**" if failed else ""),
            fmt(num(r, "items"), 0), fmt(num(r, "users"), 0), fmt(interactions(r), 0),
            fmt(num(r, "seed_s")), rebuild, *jobs, peaks, fmt(num(r, "refresher_hwm_mb"), 0), snapshot,
            fmt(num(r, "load_to_serve_s")), publish, api_rss, miss, loads,
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if failed:
            notes.append(f"- {size} failed at step **{r.get('failed_step', '?')}**: {r.get('failure', '?')}")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


# ---------------------------------------------------------------- SVG

COLORS = {
    "seed": "#1f77b4", "rebuild": "#000000", "popular": "#2ca02c", "profiles": "#9467bd", "similarities": "#d62728",
    "cleanup": "#8c564b", "load-to-serve": "#ff7f0e", "publish-to-serve": "#e377c2",
    "peak popular": "#2ca02c", "peak profiles": "#9467bd", "peak similarities": "#d62728",
    "Refresher VmHWM": "#000000", "API RSS": "#ff7f0e", "snapshot (PostgreSQL)": "#17becf", "seed peak": "#1f77b4",
}


def log_ticks(low, high):
    """Decade ticks (labelled) and 2, 5 minor ticks covering [low, high]."""
    start, stop = math.floor(math.log10(low)), math.ceil(math.log10(high))
    major, minor = [], []
    for e in range(start, stop + 1):
        major.append(10.0 ** e)
        minor += [2 * 10.0 ** e, 5 * 10.0 ** e]
    return major, minor


def label(value):
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


class Panel:
    def __init__(self, x0, y0, width, height, xs, ys, title, ylabel):
        self.x0, self.y0, self.w, self.h = x0, y0, width, height
        self.title, self.ylabel = title, ylabel
        self.xlo, self.xhi = self._range(xs)
        self.ylo, self.yhi = self._range(ys)

    @staticmethod
    def _range(values):
        values = [v for v in values if v and v > 0]
        if not values:
            return 1.0, 10.0
        lo, hi = min(values), max(values)
        lo, hi = 10 ** math.floor(math.log10(lo) * 2) / 2 if False else lo / 1.6, hi * 1.6
        return lo, hi

    def px(self, x):
        return self.x0 + (math.log10(x) - math.log10(self.xlo)) / (math.log10(self.xhi) - math.log10(self.xlo)) * self.w

    def py(self, y):
        return self.y0 + self.h - (math.log10(y) - math.log10(self.ylo)) / (math.log10(self.yhi) - math.log10(self.ylo)) * self.h

    def frame(self, out):
        out.append(f'<rect x="{self.x0}" y="{self.y0}" width="{self.w}" height="{self.h}" fill="white" stroke="#333"/>')
        out.append(f'<text x="{self.x0 + self.w / 2}" y="{self.y0 - 12}" text-anchor="middle" font-size="15" font-weight="bold">{html.escape(self.title)}</text>')
        for axis in ("x", "y"):
            lo, hi = (self.xlo, self.xhi) if axis == "x" else (self.ylo, self.yhi)
            major, minor = log_ticks(lo, hi)
            for value, is_major in [(v, True) for v in major] + [(v, False) for v in minor]:
                if not lo <= value <= hi:
                    continue
                color = "#ccc" if is_major else "#eee"
                if axis == "x":
                    x = self.px(value)
                    out.append(f'<line x1="{x:.1f}" y1="{self.y0}" x2="{x:.1f}" y2="{self.y0 + self.h}" stroke="{color}"/>')
                    if is_major or value / 10 ** math.floor(math.log10(value)) == 5:
                        out.append(f'<text x="{x:.1f}" y="{self.y0 + self.h + 16}" text-anchor="middle" font-size="11">{label(value)}</text>')
                else:
                    y = self.py(value)
                    out.append(f'<line x1="{self.x0}" y1="{y:.1f}" x2="{self.x0 + self.w}" y2="{y:.1f}" stroke="{color}"/>')
                    out.append(f'<text x="{self.x0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{11 if is_major else 9}" fill="{"#000" if is_major else "#777"}">{label(value)}</text>')
        out.append(f'<text x="{self.x0 + self.w / 2}" y="{self.y0 + self.h + 36}" text-anchor="middle" font-size="12">interactions (log)</text>')
        cx, cy = self.x0 - 48, self.y0 + self.h / 2
        out.append(f'<text x="{cx}" y="{cy}" text-anchor="middle" font-size="12" transform="rotate(-90 {cx} {cy})">{html.escape(self.ylabel)}</text>')

    def series(self, out, name, points, bounds=()):
        color = COLORS.get(name, "#555")
        pts = [(self.px(x), self.py(y)) for x, y in points if x and y and y > 0]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
        for x, y in bounds:  # lower bounds: a step cut by the time limit
            if x and y and y > 0:
                X, Y = self.px(x), self.py(y)
                out.append(f'<path d="M{X - 5:.1f},{Y + 4:.1f} L{X + 5:.1f},{Y + 4:.1f} L{X:.1f},{Y - 6:.1f} Z" fill="white" stroke="{color}" stroke-width="2"/>')
                if pts:
                    px0, py0 = pts[-1]
                    out.append(f'<line x1="{px0:.1f}" y1="{py0:.1f}" x2="{X:.1f}" y2="{Y:.1f}" stroke="{color}" stroke-width="1.5" stroke-dasharray="4 3"/>')

    def legend(self, out, names):
        x, y = self.x0 + self.w + 14, self.y0 + 14  # right of the panel, outside the data
        for name in names:
            color = COLORS.get(name, "#555")
            out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 18}" y2="{y - 4}" stroke="{color}" stroke-width="2"/>')
            out.append(f'<text x="{x + 24}" y="{y}" font-size="11">{html.escape(name)}</text>')
            y += 15


def svg(directories, path):
    metas, sizes = read_results(directories)
    seconds, seconds_bounds, memory = {}, {}, {}

    def add(store, name, r, value):
        if value is not None and value > 0:
            store.setdefault(name, []).append((interactions(r), value))

    for r in sizes:
        add(seconds, "seed", r, num(r, "seed_s"))
        add(seconds, "rebuild", r, num(r, "rebuild_s"))
        add(seconds_bounds, "rebuild", r, num(r, "rebuild_at_least_s"))
        for job in JOBS[:3]:
            add(seconds, job, r, num(r, f"job_{job}_s"))
            if r.get("timeout_job") == job:
                add(seconds_bounds, job, r, num(r, "timeout_job_elapsed_s"))
        add(seconds, "load-to-serve", r, num(r, "load_to_serve_s"))
        add(seconds, "publish-to-serve", r, num(r, "publish_to_serve_s"))
        for job in JOBS[:3]:
            add(memory, f"peak {job}", r, num(r, f"job_{job}_peak_mb"))
        add(memory, "Refresher VmHWM", r, num(r, "refresher_hwm_mb"))
        add(memory, "seed peak", r, num(r, "seed_peak_mb"))
        add(memory, "API RSS", r, num(r, "api_rss_mb"))
        add(memory, "snapshot (PostgreSQL)", r, (num(r, "snapshot_bytes") or 0) / 1048576 or None)
    if not seconds and not memory:
        print(f"no results in {' '.join(directories)}", file=sys.stderr)
        return 1

    xs = [x for s in (seconds, seconds_bounds, memory) for pts in s.values() for x, _ in pts]
    width, height = 1340, 560 + 14 * len(metas)
    left = Panel(80, 60, 410, 400, xs, [y for s in (seconds, seconds_bounds) for pts in s.values() for _, y in pts],
                 "Time", "seconds (log)")
    right = Panel(735, 60, 410, 400, xs, [y for pts in memory.values() for _, y in pts], "Memory", "MB (log)")
    right.xlo, right.xhi = left.xlo, left.xhi = min(left.xlo, right.xlo), max(left.xhi, right.xhi)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    left.frame(out)
    right.frame(out)
    if seconds.get("rebuild"):  # slope 1 (linear growth) through the first rebuild point
        x1, y1 = seconds["rebuild"][0]
        x2 = left.xhi
        y2 = y1 * x2 / x1
        if y2 > left.yhi:
            x2, y2 = x1 * left.yhi / y1, left.yhi
        out.append(f'<line x1="{left.px(x1):.1f}" y1="{left.py(y1):.1f}" x2="{left.px(x2):.1f}" y2="{left.py(y2):.1f}" stroke="#999" stroke-dasharray="6 4"/>')
        out.append(f'<text x="{left.px(x2) - 4:.1f}" y="{left.py(y2) + 14:.1f}" text-anchor="end" font-size="10" fill="#777">linear</text>')
    for name in seconds.keys() | seconds_bounds.keys():
        left.series(out, name, seconds.get(name, []), seconds_bounds.get(name, []))
    for name, points in memory.items():
        right.series(out, name, points)
    left.legend(out, [n for n in COLORS if n in seconds or n in seconds_bounds])
    right.legend(out, [n for n in COLORS if n in memory])
    for r in sizes:  # size names along the top of each panel
        for panel in (left, right):
            x = panel.px(interactions(r))
            suffix = "" if r.get("status") == "ok" else f" (failed: {r.get('failed_step', '?')})"
            out.append(f'<text x="{x:.1f}" y="{panel.y0 + panel.h - 6}" text-anchor="middle" font-size="10" fill="#555">{html.escape(r.get("size", "?") + suffix)}</text>')
    captions = [f"RecApp scale curve (bench/scale/run.sh). Open triangles: a step stopped by the time limit, at the time it had reached (a lower bound)."]
    captions += [f"Run {describe([m])}." for m in metas]
    for n, caption in enumerate(captions):
        out.append(f'<text x="{width / 2}" y="{height - 14 * (len(captions) - n)}" text-anchor="middle" font-size="11">{html.escape(caption)}</text>')
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"curve written to {path}")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "--table":
        print(table(argv[1:]))
        return 0
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    directories = [a for a in argv if not a.endswith(".svg")]
    outs = [a for a in argv if a.endswith(".svg")]
    out = outs[0] if outs else os.path.join(os.path.dirname(os.path.abspath(__file__)), "scale-curve.svg")
    return svg(directories, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
