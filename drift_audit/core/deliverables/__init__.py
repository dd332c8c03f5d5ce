"""The per-partition deliverables rendered from plain data: summary, notification, tickets, validation
matrix, feature catalog and the self-contained HTML report (docs/outputs.md). No I/O here."""
