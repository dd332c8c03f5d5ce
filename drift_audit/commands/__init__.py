"""`drift-audit` subcommands: one module each, with `register(subparsers)` adding its parser.

Each command function returns an exit code: 0 ok, 1 findings/violations, 2 unusable input.
"""

from drift_audit.commands import audit, backfill, compare, contracts, demo, ledger

COMMANDS = [demo, audit, backfill, compare, contracts, ledger]
