"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2
SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"]


def config_path(args: argparse.Namespace) -> str:
    from drift_audit.config import default_config_path

    return str(Path(args.config) if getattr(args, "config", None) else default_config_path())


def print_runs(runs: Sequence[object]) -> int:
    """Summarize materialized partitions: findings per severity and the root causes, with report paths."""
    failed = 0
    for run in runs:
        if not run.success:  # type: ignore[attr-defined]
            failed += 1
            print(f"FAILED {run.day} {run.group}: {run.error}")  # type: ignore[attr-defined]
            continue
        folder = Path(run.report_dir)  # type: ignore[attr-defined]
        findings = json.loads((folder / "findings.json").read_text())
        counts: dict[str, int] = {}
        for f in findings:
            counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: SEVERITY_ORDER.index(kv[0])))
        print(f"\n{run.day} {run.group}: {len(findings)} findings ({summary or 'none'})")  # type: ignore[attr-defined]
        for f in [f for f in findings if f["root_cause"] is None and f["severity"] != "info"][:12]:
            print(f"  {f['severity']:<8} {f['feature']:<24} {f['kind']}")
        print(f"  report: {folder / 'report.md'}")
    return EXIT_BAD_INPUT if failed else EXIT_OK
