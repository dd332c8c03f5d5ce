"""`drift-audit audit --date D [--groups a,b]`: materialize the audit of one day through Dagster."""

from __future__ import annotations

import argparse
from typing import Any

from drift_audit.commands.common import config_path, print_runs


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="materialize the audit of one day for some or all feature groups",
                       description=__doc__)
    p.add_argument("--date", required=True, help="partition day, YYYY-MM-DD")
    p.add_argument("--groups", help="comma-separated feature groups (default: every configured group)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from drift_audit.config import load_config
    from drift_audit.stages.run import materialize_partitions

    path = config_path(args)
    cfg = load_config(path)
    groups = args.groups.split(",") if args.groups else sorted(cfg.groups)
    for g in groups:
        cfg.group(g)
    return print_runs(materialize_partitions(cfg, path, [args.date], groups))
