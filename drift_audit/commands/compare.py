"""`drift-audit compare REFERENCE CURRENT`: drift between two parquet files or folders, no config needed.

Prints one line per feature (kind, scores, votes, verdict); `--json OUT` writes the full result. Exit code
0 when nothing drifted, 1 when some feature drifted, 2 on unusable input (one-line error).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from drift_audit.commands.common import EXIT_FINDINGS, EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("compare", help="compare the distributions of two parquet sources", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reference", type=Path, help="reference parquet file or folder")
    p.add_argument("current", type=Path, help="current parquet file or folder")
    p.add_argument("--features", help="comma-separated columns (default: every column both sides share)")
    p.add_argument("--bins", type=int, default=10, help="reference-quantile bins for PSI/JS (default 10)")
    p.add_argument("--top-k", type=int, default=50, help="categories kept per feature before __other__ (default 50)")
    p.add_argument("--tier", type=int, choices=(1, 2, 3), default=2, help="risk tier whose thresholds apply (default 2)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the full result as JSON to OUT")
    p.add_argument("--master", default="local[*]", help="Spark master URL (default local[*])")
    p.set_defaults(func=run)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value else f"{value:.{digits}f}"
    return str(value)


def table(result: dict[str, Any]) -> str:
    header = f"{'feature':<28} {'kind':<11} {'psi':>8} {'ks|js':>8} {'w_norm':>8} {'q':>10} {'votes':>5}  verdict"
    lines = [f"reference: {result['reference']['path']} ({result['reference']['rows']} rows)",
             f"current:   {result['current']['path']} ({result['current']['rows']} rows)", "", header,
             "-" * len(header)]
    for f in result["features"]:
        numeric = f["kind"] == "numeric"
        lines.append(
            f"{f['name'][:28]:<28} {f['kind']:<11} {_fmt(f['psi']):>8} "
            f"{_fmt(f['ks'] if numeric else f['js_distance']):>8} {_fmt(f.get('wasserstein_norm')):>8} "
            f"{_fmt(f['qvalue'], 3):>10} {f['votes']:>5}  {'DRIFTED' if f['drifted'] else 'ok'}")
    drifted = sum(1 for f in result["features"] if f["drifted"])
    lines += ["", f"{drifted} of {len(result['features'])} features drifted"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from drift_audit.core.errors import InputDataError
    from drift_audit.core.hashing import canonical_json
    from drift_audit.spark.session import get_spark
    from drift_audit.stages.compare import compare
    from drift_audit.storage import atomic_write_text

    if args.bins < 2:
        raise InputDataError(f"--bins must be at least 2, got {args.bins}")
    features = [f.strip() for f in args.features.split(",") if f.strip()] if args.features else None
    for path in (args.reference, args.current):
        if not path.exists():
            raise InputDataError(f"source not found: {path}")
    spark = get_spark(args.master)
    try:
        result = compare(spark, args.reference, args.current, features, args.bins, args.top_k, args.tier)
    except InputDataError:
        raise
    except Exception as exc:  # Spark failures on data that passed the footer checks
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise InputDataError(f"could not compare {args.reference} with {args.current}: {first}") from None
    print(table(result))
    if args.json:
        atomic_write_text(args.json, json.dumps(json.loads(canonical_json(result)), indent=2, sort_keys=True) + "\n")
        print(f"\nwritten: {args.json}")
    return EXIT_FINDINGS if any(f["drifted"] for f in result["features"]) else EXIT_OK
