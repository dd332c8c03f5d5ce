"""`drift-audit ledger verify [PATH] [--anchor HASH]`: check the change log's hash chain.

Exit 0 when every entry verifies, 1 naming the first entry that does not, 2 when the ledger is missing.
PATH defaults to `<output_dir>/ledger.jsonl` of the configuration.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from drift_audit.commands.common import EXIT_FINDINGS, EXIT_OK, config_path


def register(sub: Any) -> None:
    p = sub.add_parser("ledger", help="the tamper-evident change log of audit decisions", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    lsub = p.add_subparsers(dest="ledger_command", required=True, metavar="SUBCOMMAND")
    v = lsub.add_parser("verify", help="check the hash chain and name the first bad entry", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("path", nargs="?", help="ledger file (default: <output_dir>/ledger.jsonl)")
    v.add_argument("--anchor", help="an entry hash recorded elsewhere (Dagster metadata `ledger_entry`) that "
                                    "must still be in the ledger: detects deleted newest entries")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.set_defaults(func=verify)


def verify(args: argparse.Namespace) -> int:
    from drift_audit.core.ledger import FILE_NAME
    from drift_audit.core.ledger import verify as check

    if args.path:
        path = Path(args.path)
    else:
        from drift_audit.config import load_config

        path = load_config(config_path(args)).output_root / FILE_NAME
    result = check(path, anchor=args.anchor)
    if args.json:
        print(json.dumps({"path": result.path, "ok": result.ok, "entries": result.entries, "head": result.head,
                          "first_bad": result.first_bad, "warnings": list(result.warnings)}, indent=2))
    else:
        for w in result.warnings:
            print(f"warning: {w}")
        if result.ok:
            print(f"ok: {result.entries} entries verify; head {result.head}")
        else:
            print(f"BROKEN after {result.entries} good entries: {result.first_bad}")
    return EXIT_OK if result.ok else EXIT_FINDINGS
