#!/usr/bin/env python3
"""Prints the table of benches/parsers.rs from criterion's results: median ns per reply for each
parser and category, smtp-verdict's speed-up over the fastest peer, and its cost over memchr.

    cargo bench --bench parsers -- --warm-up-time 1 --measurement-time 3
    python3 benches/table.py            # or: python3 benches/table.py path/to/target/criterion

With several criterion folders (copies of target/criterion after each of several runs), each
cell is the lowest of the runs' medians: on a machine where other work comes and goes, the
least disturbed run of each function. `benches/run.sh` does that.
"""
import json
import os
import sys
from pathlib import Path

PARSERS = ["smtp_verdict", "smtp_verdict_c", "smtp_proto", "smtp_codec", "lettre", "memchr"]
PEERS = ["smtp_proto", "smtp_codec", "lettre"]
CATEGORIES = ["short", "enhanced", "ehlo", "long_line", "pipelined_100", "corpus"]

roots = [Path(a) for a in sys.argv[1:]] or \
    [Path(os.environ.get("CARGO_TARGET_DIR", Path(__file__).resolve().parent.parent / "target")) / "criterion"]

print("| category | replies | " + " | ".join(PARSERS) +
      " | fastest peer / smtp_verdict | smtp_verdict / memchr | C entry / Rust |")
print("|---" * (len(PARSERS) + 5) + "|")
for cat in CATEGORIES:
    ns = {}
    replies = None
    for p in PARSERS:
        for root in roots:
            d = root / cat / p / "new"
            if not d.exists():
                continue
            median = json.loads((d / "estimates.json").read_text())["median"]["point_estimate"]
            throughput = json.loads((d / "benchmark.json").read_text()).get("throughput") or {}
            replies = throughput.get("Elements", 1)
            ns[p] = min(ns.get(p, float("inf")), median / replies)
    if "smtp_verdict" not in ns:
        continue
    v = ns["smtp_verdict"]
    peer = min(PEERS, key=lambda p: ns.get(p, float("inf")))
    cells = [f"{ns[p]:.1f}" if p in ns else "-" for p in PARSERS]
    print(f"| {cat} | {replies} | " + " | ".join(cells) +
          f" | {ns[peer] / v:.2f}x ({peer}) | {v / ns['memchr']:.2f}x | {ns['smtp_verdict_c'] / v:.2f}x |")
runs = f", lowest of {len(roots)} runs" if len(roots) > 1 else ""
print(f"\nmedian ns per reply{runs}; targets: fastest peer / smtp_verdict >= 3, smtp_verdict / memchr <= 4")
