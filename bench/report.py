#!/usr/bin/env python3
"""Summarises bench/run.sh's runs: a table on stdout, everything as JSON.

Input: runs.tsv (tool, run, status, seconds, loadavg, note), and in --out-dir
pgferry-<run>.rss (peak RSS in KiB), pgferry-<run>.json (migrate --json) and
pgferry-verify-<run>.tsv (seconds and exit code of the verify that followed).
"""
import argparse
import json
import statistics
import sys

LABELS = {
    "pgferry": "pgferry migrate",
    "pgdump_dir": "pg_dump -Fd -j | pg_restore -j",
    "pgdump_psql": "pg_dump | psql",
    "pgcopydb": "pgcopydb clone",
    "floor": "COPY floor (1 stream)",
    "floor_analyze": "COPY floor + ANALYZE",
}
PHASES = ["catalog", "pre_data", "data", "post_data", "sequences", "total"]


def read_runs(path):
    runs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            tool, run, status, secs, load, note = (line.split("\t") + [""] * 6)[:6]
            runs.append({"tool": tool, "run": int(run), "status": status,
                         "seconds": float(secs), "loadavg_1m": float(load or 0),
                         "note": note})
    return runs


def read_pgferry(out_dir, run):
    rss_kib, report = None, None
    try:
        with open(f"{out_dir}/pgferry-{run}.rss", encoding="utf-8") as f:
            # /usr/bin/time -o writes "Command exited with non-zero status" first on failure.
            nums = [l.strip() for l in f if l.strip().isdigit()]
            rss_kib = int(nums[-1]) if nums else None
    except OSError:
        pass
    try:
        with open(f"{out_dir}/pgferry-{run}.json", encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError):
        pass
    return rss_kib, report


def read_verify(out_dir, run):
    """(seconds, exit code) of the verify after pgferry's run, or None."""
    try:
        with open(f"{out_dir}/pgferry-verify-{run}.tsv", encoding="utf-8") as f:
            secs, rc = (f.read().split() + ["", ""])[:2]
            return float(secs), int(rc)
    except (OSError, ValueError):
        return None


def fmt(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def table(headers, rows):
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths)), line]
    for r in rows:
        out.append("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs-tsv", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--meta", nargs="*", default=[])
    a = ap.parse_args()

    meta = dict(m.split("=", 1) for m in a.meta)
    runs = read_runs(a.runs_tsv)
    tools = []
    for r in runs:
        if r["tool"] not in tools:
            tools.append(r["tool"])

    for r in runs:
        if r["tool"] == "pgferry":
            rss, rep = read_pgferry(a.out_dir, r["run"])
            r["peak_rss_mb"] = None if rss is None else round(rss / 1024, 1)
            if rep and isinstance(rep.get("phases"), dict):
                r["phases"] = rep["phases"]
                r["tables"] = [t for t in rep.get("tables", []) if isinstance(t, dict)]
            v = read_verify(a.out_dir, r["run"])
            if v is not None:
                r["verify_s"], r["verify_exit"] = v
                if r["status"] == "OK" and v[1] == 0:
                    r["verify_over_migrate"] = round(v[0] / r["seconds"], 3)

    summary = {}
    for t in tools:
        mine = [r for r in runs if r["tool"] == t]
        ok = [r["seconds"] for r in mine if r["status"] == "OK"]
        s = {"label": LABELS.get(t, t), "runs": len(mine), "ok": len(ok),
             "failed": sum(r["status"] == "FAILED" for r in mine),
             "skipped": sum(r["status"] == "SKIPPED" for r in mine),
             "median_s": statistics.median(ok) if ok else None,
             "min_s": min(ok) if ok else None, "max_s": max(ok) if ok else None,
             "notes": sorted({r["note"] for r in mine if r["note"]})}
        summary[t] = s
    pg = summary.get("pgferry", {}).get("median_s")
    for t, s in summary.items():
        s["ratio_pgferry_over_tool"] = (round(pg / s["median_s"], 3)
                                        if pg and s["median_s"] else None)

    pgf = [r for r in runs if r["tool"] == "pgferry"]
    # Verify of pgferry's own migrations: exit 0 (equal) runs only; the
    # ratio is of the medians, each run's own ratio is in the runs.
    vok = [r["verify_s"] for r in pgf if r.get("verify_exit") == 0 and r["status"] == "OK"]
    vfailed = sum(1 for r in pgf if r.get("verify_exit") not in (None, 0))
    verify = None
    if vok or vfailed:
        verify = {"runs": len(vok) + vfailed, "ok": len(vok), "failed": vfailed,
                  "median_s": statistics.median(vok) if vok else None,
                  "min_s": min(vok) if vok else None, "max_s": max(vok) if vok else None,
                  "per_run_ratio": [r["verify_over_migrate"] for r in pgf
                                    if "verify_over_migrate" in r]}
        verify["ratio_verify_over_migrate"] = (round(verify["median_s"] / pg, 3)
                                               if pg and verify["median_s"] else None)
    rss = [r["peak_rss_mb"] for r in pgf if r.get("peak_rss_mb") is not None]
    phase_medians = {}
    for p in PHASES:
        vals = [r["phases"][p] for r in pgf
                if r["status"] == "OK" and isinstance(r.get("phases", {}).get(p), (int, float))]
        if vals:
            phase_medians[p] = round(statistics.median(vals), 3)
    loads = [r["loadavg_1m"] for r in runs if r["status"] != "SKIPPED"]

    doc = {"meta": meta, "summary": summary, "runs": runs,
           "pgferry_peak_rss_mb": max(rss) if rss else None,
           "pgferry_phase_medians_s": phase_medians,
           "pgferry_verify": verify,
           "loadavg_1m": {"min": min(loads), "max": max(loads)} if loads else None}
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    print()
    # run.sh describes the source shape; older results only had scale and wide_rows.
    shape = (meta.get("shape_desc")
             or f"pgbench scale {meta.get('scale')} + wide {meta.get('wide_rows')} rows")
    profile = meta.get("profile", "local")
    print(f"== profile {profile} ({meta.get('link', 'direct')}); {shape}")
    print(f"pgferry bench: {shape} "
          f"(source {int(meta.get('source_bytes', 0)) // 1048576} MB), jobs {meta.get('jobs')}, "
          f"pgferry jobs {meta.get('pgferry_jobs', meta.get('jobs'))}"
          + (f" {meta['pgferry_args']}" if meta.get("pgferry_args") else "") + ", "
          f"fsync {meta.get('fsync')}, PostgreSQL {meta.get('postgres')}, "
          f"{meta.get('nproc')} CPUs")
    rows = []
    for t, s in summary.items():
        status = f"{s['ok']}/{s['runs']}"
        if s["failed"]:
            status += " FAILED" if not s["ok"] else f" ({s['failed']} FAILED)"
        if s["skipped"]:
            status += " SKIPPED"
        v_s, v_ratio = "-", "-"
        if t == "pgferry" and verify:
            v_s = fmt(verify["median_s"], 2) + (f" ({verify['failed']} FAILED)"
                                                 if verify["failed"] else "")
            v_ratio = fmt(verify["ratio_verify_over_migrate"], 2)
        rows.append([s["label"], status, fmt(s["median_s"], 2), fmt(s["min_s"], 2),
                     fmt(s["max_s"], 2), fmt(s["ratio_pgferry_over_tool"], 2), v_s, v_ratio])
    print(table(["tool", "ok/runs", "median s", "min s", "max s", "pgferry/tool",
                 "verify s", "verify/migrate"], rows))
    print()
    print(f"pgferry peak RSS: {fmt(doc['pgferry_peak_rss_mb'])} MB"
          + (f" (runs: {', '.join(fmt(x) for x in rss)})" if len(rss) > 1 else ""))
    if phase_medians:
        print("pgferry phases (median s): "
              + ", ".join(f"{p} {phase_medians[p]:.1f}" for p in PHASES if p in phase_medians))
    if loads:
        # Our own previous run counts in the 1-minute average; the load before
        # we started says more about other users of the machine.
        start = float(meta.get("load_at_start") or 0)
        print(f"1-minute load average: {start:.1f} before the bench, "
              f"{min(loads):.1f} .. {max(loads):.1f} at run starts"
              + ("  (machine busy before we started: numbers are noisy)"
                 if start > float(meta.get("nproc") or 2) * 0.5 else ""))
    for t, s in summary.items():
        for n in s["notes"]:
            print(f"{s['label']}: {n}")
    if verify:
        print(f"pgferry verify after each migration: median {fmt(verify['median_s'], 2)}s, "
              f"{fmt(verify['ratio_verify_over_migrate'], 2)}x the migration "
              f"(per run: {', '.join(fmt(x, 2) for x in verify['per_run_ratio']) or '-'})"
              + (f"; {verify['failed']} verify runs FAILED" if verify["failed"] else ""))
    failed = any(s["failed"] for s in summary.values()) or bool(verify and verify["failed"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
