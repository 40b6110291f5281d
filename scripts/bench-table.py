#!/usr/bin/env python3
"""The side-by-side table of scripts/bench, from the JSON each ptybench run printed.

Usage: bench-table.py RESULTS_DIR --machine M --seed S --command C --contexts N --rate R --windows W
Every ratio is peer / shipdeck for a figure where lower is better: above 1 means shipdeck
did better by that factor. Figures are printed as measured; nothing here is assumed.
"""

import argparse
import glob
import json
import os
import statistics


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or d.get(k) is None:
            return None
        d = d[k]
    return d


def fleet(results):
    """40 k9s processes summed (memory, CPU, bytes) or worst-of (times)."""
    runs = [load(p) for p in sorted(glob.glob(os.path.join(results, "k9s-fleet-*.json")))]
    runs = [r for r in runs if r]
    if not runs:
        return None, 0

    def worst(*k):
        v = [get(r, *k) for r in runs]
        return None if any(x is None for x in v) else max(v)

    def total(*k):
        v = [get(r, *k) for r in runs]
        return None if any(x is None for x in v) else round(sum(v), 2)

    return {
        "first_frame_s": worst("first_frame_s"),
        "full_view_s": worst("full_view_s"),
        "to_full_view": {"bytes": total("to_full_view", "bytes")},
        "after_load": {"rss_mib": total("after_load", "rss_mib")},
        "after_idle": {"rss_mib": total("after_idle", "rss_mib"), "hwm_mib": total("after_idle", "hwm_mib")},
        "idle": {
            "cpu_pct": total("idle", "cpu_pct"),
            "bytes_per_s": total("idle", "bytes_per_s"),
            "reads": total("idle", "reads"),
            "secs": get(runs[0], "idle", "secs"),
        },
    }, len(runs)


def per_s(run, window):
    reads, secs = get(run, window, "reads"), get(run, window, "secs")
    return None if reads is None or not secs else round(reads / secs, 2)


ROWS = [
    ("first frame (s)", lambda r: get(r, "first_frame_s")),
    ("full view of the target (s)", lambda r: get(r, "full_view_s")),
    ("bytes to the terminal until the full view", lambda r: get(r, "to_full_view", "bytes")),
    ("RSS after load (MiB)", lambda r: get(r, "after_load", "rss_mib")),
    ("RSS after the idle window (MiB)", lambda r: get(r, "after_idle", "rss_mib")),
    ("peak RSS, VmHWM, by the end of idle (MiB)", lambda r: get(r, "after_idle", "hwm_mib")),
    ("CPU idle (% of one core)", lambda r: get(r, "idle", "cpu_pct")),
    ("terminal bytes/s idle", lambda r: get(r, "idle", "bytes_per_s")),
    ("terminal read() chunks/s idle", lambda r: per_s(r, "idle")),
    ("CPU under churn (% of one core)", lambda r: get(r, "churn", "cpu_pct")),
    ("terminal bytes/s under churn", lambda r: get(r, "churn", "bytes_per_s")),
    ("terminal read() chunks/s under churn", lambda r: per_s(r, "churn")),
    ("RSS at the end of churn (MiB)", lambda r: get(r, "churn", "rss_end_mib")),
    ("peak RSS sampled during churn (MiB)", lambda r: get(r, "churn", "rss_peak_mib")),
    ("filter key → frame p50, idle (ms)", lambda r: get(r, "latency_idle", "p50_ms")),
    ("filter key → frame p99, idle (ms)", lambda r: get(r, "latency_idle", "p99_ms")),
    ("filter key → frame p50, churn (ms)", lambda r: get(r, "latency_churn", "p50_ms")),
    ("filter key → frame p99, churn (ms)", lambda r: get(r, "latency_churn", "p99_ms")),
]


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, float) and v >= 100:
        return f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:g}"


def ratio(peer, ours):
    if peer is None or ours is None:
        return "—"
    if ours == 0:
        return "= (both 0)" if peer == 0 else "∞ (shipdeck 0)"
    r = peer / ours
    return f"{r:.2g}×" if r < 10 else f"{r:,.0f}×"


def oneshot(results):
    out = {}
    try:
        with open(os.path.join(results, "oneshot.txt")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    out[parts[0]] = (float(parts[1]), int(parts[2]) / 1024)
    except (OSError, ValueError):
        pass
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results")
    for a in ("machine", "seed", "command", "contexts", "rate", "windows"):
        p.add_argument("--" + a, required=True)
    a = p.parse_args()
    ours = load(os.path.join(a.results, "shipdeck.json"))
    k9s_fleet, n_fleet = fleet(a.results)
    peers = [
        ("k9s, 1 context", load(os.path.join(a.results, "k9s.json"))),
        (f"k9s ×{n_fleet} (one per context, summed; times: slowest)", k9s_fleet),
        ("`argo rollouts get rollout --watch`", load(os.path.join(a.results, "plugin-get.json"))),
        ("`argo rollouts list rollouts --watch`", load(os.path.join(a.results, "plugin-list.json"))),
    ]
    peers = [(n, r) for n, r in peers if r]

    print(f"Command: `{a.command}` · machine: {a.machine}")
    print()
    print(f"Fleet: {a.seed.removeprefix('bench_fleet: ')}; {a.contexts} contexts over the env's 2 apiservers;"
          f" churn {a.rate} updates/s per context. Windows: {a.windows}. Terminal 200x50.")
    gens = [get(r, "churn", "generator") for _, r in [("shipdeck", ours)] + peers if r]
    gens = [g for g in gens if g]
    if gens:
        print(f"Churn achieved (shipdeck's run): {gens[0].removeprefix('bench_fleet: ')}")
    print()
    head = "| | shipdeck (all contexts) |" + "".join(f" {n} | ratio |" for n, _ in peers)
    print(head)
    print("|---|---|" + "---|---|" * len(peers))
    for label, f in ROWS:
        v = f(ours) if ours else None
        cells = "".join(f" {fmt(f(r))} | {ratio(f(r), v)} |" for _, r in peers)
        print(f"| {label} | {fmt(v)} |{cells}")
    print()
    print("Ratios are peer ÷ shipdeck (lower is better for every row: above 1× shipdeck did better).")
    one = oneshot(a.results)
    if one:
        print()
        print("| one-shot read, median of 3 | wall (s) | peak RSS (MiB) |")
        print("|---|---|---|")
        names = {
            "snapshot_fleet": f"`shipdeck snapshot`, {a.contexts} contexts",
            "snapshot_one": "`shipdeck snapshot --context bench-00`",
            "plugin_list_one": "`kubectl argo rollouts list rollouts -n bench-00`",
        }
        for k, (wall, kib) in one.items():
            print(f"| {names.get(k, k)} | {wall:g} | {kib:.1f} |")
    if ours and peers:
        print()
        k9s = dict(peers).get("k9s, 1 context")
        lines = []
        if k9s:
            fv, kfv = get(ours, "full_view_s"), get(k9s, "full_view_s")
            if fv and kfv:
                lines.append(f"full view: k9s (1 context) {kfv:g} s vs shipdeck ({a.contexts} contexts) {fv:g} s = {kfv / fv:.2g}× (goal ≥ 10×)")
            rss, krss = get(ours, "churn", "rss_end_mib"), get(k9s, "churn", "rss_end_mib")
            if rss and krss:
                lines.append(f"RSS after churn: shipdeck {rss:g} MiB = {rss / krss:.2f} of k9s's {krss:g} MiB (goal ≤ 0.20)")
        if k9s_fleet and get(k9s_fleet, "after_idle", "rss_mib") and get(ours, "after_idle", "rss_mib"):
            lines.append(
                f"RSS after idle: shipdeck {get(ours, 'after_idle', 'rss_mib'):g} MiB for {a.contexts} contexts = "
                f"{get(ours, 'after_idle', 'rss_mib') / get(k9s_fleet, 'after_idle', 'rss_mib'):.2f} of {n_fleet} k9s processes' "
                f"{get(k9s_fleet, 'after_idle', 'rss_mib'):g} MiB")
        plug = dict(peers).get("`argo rollouts get rollout --watch`")
        if plug:
            lines.append(f"idle: shipdeck {fmt(get(ours, 'idle', 'bytes_per_s'))} B/s vs the plugin's `get --watch` {fmt(get(plug, 'idle', 'bytes_per_s'))} B/s (goal: 0 B/s)")
        for l in lines:
            print(f"- {l}")
    missing = [n for n, r in [("shipdeck", ours)] + peers if r and get(r, "full_view_s") is None]
    if missing:
        print(f"- no full view detected within the timeout for: {', '.join(missing)}")


if __name__ == "__main__":
    main()
