"""`drift-audit contracts check [--against REV] [--json]`: compile, buf lint, buf breaking and our rules.

Exit code 0 when the contracts pass, 1 when any rule is violated, 2 when the input is unusable (a
contract does not compile, REV is not a commit, buf is missing).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from drift_audit.commands.common import EXIT_FINDINGS, EXIT_OK, config_path


def register(sub: Any) -> None:
    p = sub.add_parser("contracts", help="work with the protobuf feature contracts", description=__doc__)
    cmds = p.add_subparsers(dest="contracts_command", required=True, metavar="SUBCOMMAND")
    c = cmds.add_parser("check", help="compile, lint and check contracts for breaking changes",
                        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--against", metavar="REV", help="Git revision to check breaking changes against (e.g. HEAD, main)")
    c.add_argument("--root", help="contracts folder (default: contracts.root of drift_audit.yaml, else ./contracts)")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from drift_audit.config import Config, load_config
    from drift_audit.stages.contracts import check

    path = Path(config_path(args))
    cfg: Config | None = load_config(path) if path.is_file() or args.config else None
    root = Path(args.root) if args.root else (cfg.path(cfg.contracts.root) if cfg else Path("contracts"))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # an unreachable registry fails fast
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    report = check(root, args.against, cfg)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        _print(report)
    return EXIT_FINDINGS if report.verdict.violations else EXIT_OK


def _print(report: Any) -> None:
    verdict = report.verdict
    against = f" against {report.against['rev']} ({report.against['commit'][:12]})" if report.against else ""
    print(f"contracts check of {report.display_root}{against}: {len(report.groups)} feature group(s)")
    if report.against:
        print(f"consumers from {report.consumers_source}")
    for c in verdict.violations:
        print(f"{report.where(c)}: [{c.rule}] {c.message}\n    fix: {c.fix}")
    for c in verdict.notices:
        print(f"{report.where(c)}: note [{c.rule}] {c.message}")
    print(f"{len(verdict.violations)} violation(s), {len(verdict.notices)} notice(s)")
