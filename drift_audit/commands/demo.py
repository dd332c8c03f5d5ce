"""`drift-audit demo`: build the demo feature store and audit its last day for every group."""

from __future__ import annotations

import argparse
from typing import Any

from drift_audit.commands.common import config_path, print_runs


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="build the demo feature store and audit it end to end",
                       description=__doc__)
    p.add_argument("--skip-build", action="store_true", help="audit the existing demo data without rebuilding it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from drift_audit.config import load_config
    from drift_audit.demo.generate import DemoSpec, build_demo
    from drift_audit.stages.run import materialize_partitions

    path = config_path(args)
    cfg = load_config(path)
    spec = DemoSpec()
    if not args.skip_build:
        print(f"building the demo feature store ({len(spec.days)} days, {len(cfg.groups)} feature groups) ...")
        build_demo(cfg, spec)
    day = spec.audit_day.isoformat()
    print(f"auditing {day} for {', '.join(sorted(cfg.groups))} ...")
    code = print_runs(materialize_partitions(cfg, path, [day], cfg.groups))
    print(f"\nBrowse and backfill in the Dagster UI: make ui (http://127.0.0.1:3000). Outputs: {cfg.output_root}")
    return code
