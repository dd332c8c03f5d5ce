"""`drift-audit`: audit Feast feature stores for training-serving skew.

Thin: parses arguments and calls the stages. Every DriftAuditError becomes one line on stderr and exit
code 2; nothing user-facing shows a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from drift_audit.commands import COMMANDS
from drift_audit.commands.common import EXIT_BAD_INPUT
from drift_audit.core.errors import DriftAuditError, redact


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drift-audit", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", help="drift_audit.yaml to use (default: $DRIFT_AUDIT_CONFIG or ./drift_audit.yaml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DriftAuditError as exc:
        print(redact(f"drift-audit: error: {exc}").replace("\n", " "), file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
