"""`drift-audit`: the command line. Thin: parses arguments, calls stages, prints results.

Every DriftAuditError becomes one line on stderr and exit code 2; nothing user-facing shows a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from drift_audit.core.errors import DriftAuditError

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2


def _config_path(args: argparse.Namespace) -> str:
    from drift_audit.config import default_config_path

    return str(Path(args.config) if args.config else default_config_path())


def cmd_demo(args: argparse.Namespace) -> int:
    from drift_audit.config import load_config
    from drift_audit.demo.generate import DemoSpec, build_demo
    from drift_audit.stages.run import materialize_partitions

    path = _config_path(args)
    cfg = load_config(path)
    spec = DemoSpec()
    if not args.skip_build:
        print(f"building the demo feature store ({len(spec.days)} days, {len(cfg.groups)} feature groups) ...")
        build_demo(cfg, spec)
    day = spec.audit_day.isoformat()
    print(f"auditing {day} for {', '.join(sorted(cfg.groups))} (Dagster instance: $DAGSTER_HOME) ...")
    runs = materialize_partitions(cfg, path, [day], cfg.groups)
    return _print_runs(runs)


def cmd_audit(args: argparse.Namespace) -> int:
    from drift_audit.config import load_config
    from drift_audit.stages.run import materialize_partitions

    path = _config_path(args)
    cfg = load_config(path)
    groups = args.groups.split(",") if args.groups else sorted(cfg.groups)
    for g in groups:
        cfg.group(g)
    return _print_runs(materialize_partitions(cfg, path, [args.date], groups))


def _print_runs(runs: Sequence[object]) -> int:
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
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: _SEV.index(kv[0])))
        print(f"\n{run.day} {run.group}: {len(findings)} findings ({summary or 'none'})")  # type: ignore[attr-defined]
        roots = [f for f in findings if f["root_cause"] is None and f["severity"] != "info"]
        for f in roots[:12]:
            print(f"  {f['severity']:<8} {f['feature']:<24} {f['kind']}")
        print(f"  report: {folder / 'report.md'}")
    return EXIT_BAD_INPUT if failed else EXIT_OK


_SEV = ["critical", "high", "medium", "low", "info"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drift-audit", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--config", help="drift_audit.yaml to use (default: $DRIFT_AUDIT_CONFIG or ./drift_audit.yaml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="build the demo feature store and audit it end to end")
    demo.add_argument("--skip-build", action="store_true", help="audit the existing demo data without rebuilding")
    demo.set_defaults(func=cmd_demo)

    audit = sub.add_parser("audit", help="materialize the audit of one day for some or all feature groups")
    audit.add_argument("--date", required=True, help="partition day, YYYY-MM-DD")
    audit.add_argument("--groups", help="comma-separated feature groups (default: all configured)")
    audit.set_defaults(func=cmd_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except DriftAuditError as exc:
        print(f"drift-audit: error: {exc}".replace("\n", " "), file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
