#!/usr/bin/env python3
"""Turns run.sh's samples into the Markdown table, the JSON and the SVG chart (results/<time>.* and latest.*)."""
import argparse, datetime, html, json, os, platform, shutil, statistics, subprocess

VARIANTS = [
    ("off", "caching off (before)", "pass-through HybridCache: the generated wrapper always runs the query (SQLite, 1000 rows) and serializes the list"),
    ("cachegen", "CacheGen.Redis, L1 on", "in-process L1 (5 s lifetime, the default) in front of Redis"),
    ("cachegen-br", "CacheGen.Redis, L1 on, br", "Accept-Encoding: br: the Brotli copy CacheGen.AspNetCore made once for the cached payload"),
    ("cachegen-304", "CacheGen.Redis, L1 on, 304", "If-None-Match with the list's ETag: a 304 revalidation, no body"),
    ("cachegen-l1off", "CacheGen.Redis, L1 off", "LocalCacheExpiration = 0: every hit is a Redis round trip (MGET), the cached bytes written as they are"),
    ("microsoft", "Microsoft HybridCache + Redis", "AddHybridCache + AddStackExchangeRedisCache (peer)"),
    ("fusion", "FusionCache + Redis", "FusionCache 2.9 AsHybridCache(), System.Text.Json, Redis L2 (peer)"),
    ("outputcache", "Output Caching, in-memory", "ASP.NET Core Output Caching (AddOutputCache, base policy, 300 s) over the uncached sample (peer)"),
    ("outputcache-redis", "Output Caching + Redis", "the same with AddStackExchangeRedisOutputCache as its store (peer)"),
    ("static", "static bytes (limit)", "a constant byte array of the identical /posts/ body"),
]
TOOLS = [
    ("wrk", "wrk -c 32"),
    ("loadtest", "loadtest -c 1"),
]
METRICS = ["rps", "mean_ms", "p50_ms", "p90_ms", "p99_ms"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    ap.add_argument("outdir")
    ap.add_argument("--body-bytes", type=int, required=True)
    ap.add_argument("--posts", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--wrk-threads", type=int, required=True)
    ap.add_argument("--warmup-seconds", type=int, required=True)
    a = ap.parse_args()

    samples = [json.loads(line) for line in open(a.samples) if line.strip()]
    summary = {}
    for tool, _ in TOOLS:
        for v, _, _ in VARIANTS:
            runs = [s["sample"] for s in samples if s["tool"] == tool and s["variant"] == v]
            if not runs:
                continue
            row = {m: statistics.mean(r[m] for r in runs) for m in METRICS}
            row["rps_runs"] = [round(r["rps"], 1) for r in runs]
            row["errors"] = sum(r["errors"] for r in runs)
            row["requests"] = sum(r["requests"] for r in runs)
            summary.setdefault(tool, {})[v] = row
        for v, row in summary.get(tool, {}).items():
            before, limit = summary[tool].get("off"), summary[tool].get("static")
            row["x_before"] = row["rps"] / before["rps"] if before and before["rps"] else None
            row["x_limit"] = row["rps"] / limit["rps"] if limit and limit["rps"] else None

    now = datetime.datetime.now(datetime.timezone.utc)
    machine = {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "os": platform.platform(),
        "dotnet": run(["dotnet", "--version"]),
        "wrk": (run(["wrk", "-v"]) or "").splitlines()[0] if run(["wrk", "-v"]) else None,
        "redis": run(["redis-server", "--version"]),
    }
    result = {
        "time": now.isoformat(timespec="seconds"),
        "machine": machine,
        "settings": {"posts": a.posts, "body_bytes": a.body_bytes, "rounds": a.rounds, "seconds_per_run": a.seconds,
                     "wrk_threads": a.wrk_threads, "warmup_seconds": a.warmup_seconds},
        "variants": {v: {"label": label, "meaning": meaning} for v, label, meaning in VARIANTS},
        "summary": summary,
        "samples": samples,
    }

    md = markdown(result)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    os.makedirs(a.outdir, exist_ok=True)
    outputs = {"md": md, "json": json.dumps(result, indent=2) + "\n", "svg": svg(result)}
    for ext, text in outputs.items():
        path = os.path.join(a.outdir, f"{stamp}.{ext}")
        with open(path, "w") as f:
            f.write(text)
        shutil.copyfile(path, os.path.join(a.outdir, f"latest.{ext}"))
    print(md)
    print(f"saved {a.outdir}/{stamp}.md, .json, .svg (and latest.*)")


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip() or None
    except OSError:
        return None


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def ratio(x):
    return "–" if x is None else f"{x:.2f}x"


def markdown(r):
    s, m = r["settings"], r["machine"]
    out = [
        f"# GET /posts/ under load ({r['time']})",
        "",
        f"{s['posts']} posts, {s['body_bytes']:,}-byte body. {m['cores']} cores ({m['cpu']}), .NET SDK {m['dotnet']}. "
        f"Every variant is its own process of bench/CacheGen.LoadHost on real Kestrel, against one private "
        f"redis-server; all answer byte-identical bodies (checked). After {s['warmup_seconds']} s of wrk per variant (warm-up), "
        f"{s['rounds']} interleaved rounds of {s['seconds_per_run']} s per variant and tool; figures are the mean of "
        f"the rounds (rps of each round in brackets).",
        "",
    ]
    for tool, title in TOOLS:
        rows = r["summary"].get(tool, {})
        if not rows:
            continue
        out += [f"## {title}" + (f" ({s['wrk_threads']} thread)" if tool == "wrk" else ""), ""]
        if tool == "loadtest":
            out += ["> With `loadtest -c 1` the load tool itself caps throughput: one Node.js client, one request at a "
                    "time, a new connection per request (loadtest's default, as in the original article). Its "
                    "percentiles are whole milliseconds, truncated (loadtest's histogram); the mean is wall time per "
                    "request, client included. Compare variants with wrk; this table repeats the original's method.", ""]
        out += ["| variant | rps | mean ms | p50 ms | p90 ms | p99 ms | errors | vs before | vs limit |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for v, label, _ in VARIANTS:
            if v not in rows:
                continue
            x = rows[v]
            runs = ", ".join(f"{q:,.0f}" for q in x["rps_runs"])
            out.append(f"| {label} | {x['rps']:,.0f} ({runs}) | {x['mean_ms']:.2f} | {x['p50_ms']:.2f} | {x['p90_ms']:.2f} | "
                       f"{x['p99_ms']:.2f} | {x['errors']} | {ratio(x['x_before'])} | {ratio(x['x_limit'])} |")
        out.append("")
    out += ["## Variants", ""]
    out += [f"- **{label}** (`{v}`): {meaning}" for v, label, meaning in VARIANTS]
    out.append("")
    return "\n".join(out)


def svg(r):
    """Horizontal bars of rps per variant, one panel per tool (their scales differ by orders of magnitude)."""
    width, left, right, bar, gap, head = 760, 230, 110, 22, 8, 46
    colors = {"off": "#9e9e9e", "cachegen": "#1565c0", "cachegen-l1off": "#64b5f6", "microsoft": "#7b1fa2",
              "fusion": "#ef6c00", "static": "#2e7d32", "cachegen-br": "#0d47a1", "cachegen-304": "#42a5f5",
              "outputcache": "#c62828", "outputcache-redis": "#ef9a9a"}
    parts, y = [], 40
    title = f"GET /posts/ requests per second ({r['settings']['posts']} posts, {r['machine']['cores']} cores, {r['time']})"
    parts.append(f'<text x="10" y="24" font-size="15" font-weight="bold">{html.escape(title)}</text>')
    for tool, tool_title in TOOLS:
        rows = r["summary"].get(tool, {})
        if not rows:
            continue
        top = max(x["rps"] for x in rows.values()) or 1
        note = " (the tool caps throughput)" if tool == "loadtest" else ""
        parts.append(f'<text x="10" y="{y + 24}" font-size="13" font-weight="bold">{html.escape(tool_title + note)}</text>')
        y += head - 8
        for v, label, _ in VARIANTS:
            if v not in rows:
                continue
            x = rows[v]
            w = (width - left - right) * x["rps"] / top
            parts.append(f'<text x="{left - 8}" y="{y + bar * 0.72:.1f}" font-size="12" text-anchor="end">{html.escape(label)}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colors[v]}"/>')
            extra = f" ({x['x_before']:.1f}x before)" if x.get("x_before") and v != "off" else ""
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + bar * 0.72:.1f}" font-size="12">{x["rps"]:,.0f}{html.escape(extra)}</text>')
            y += bar + gap
        y += 10
    height = y + 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 60}" height="{height}" '
            f'viewBox="0 0 {width + 60} {height}" font-family="sans-serif">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n")


if __name__ == "__main__":
    main()
