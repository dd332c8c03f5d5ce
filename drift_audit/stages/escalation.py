"""Escalation tickets for failed audit runs: `<output_dir>/escalations/<date>/<group>/run-<run_id>.{md,json}`.

Written by the run-failure sensor (runs launched by the daemon: schedule, sensors, UI backfills) and by
the CLI when an in-process run fails. One ticket per run, named by the run id, so writing it twice (both
paths, or a sensor retry) leaves the same files. Deterministic: no wall-clock time is added.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from drift_audit.config import Config
from drift_audit.core.hashing import canonical_json
from drift_audit.storage import atomic_write_text

MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class FailedRun:
    day: str
    group: str
    run_id: str
    job: str
    trigger: str
    step: str  # the failed asset/step, "" when the run failed outside a step
    error_type: str
    error: str
    config_path: str


def root_error(err: Any) -> tuple[str, str]:
    """(class, message) of the innermost cause of a Dagster SerializableErrorInfo: our own error, not
    Dagster's "error occurred while executing op" wrapper."""
    while getattr(err, "cause", None) is not None:
        err = err.cause
    return err.cls_name or "", err.message.strip()


def ticket_dir(cfg: Config, day: str, group: str) -> Path:
    return cfg.output_root / "escalations" / day / group


def reproduce(failed: FailedRun) -> list[str]:
    """Commands that re-run exactly the failed partition (the CLI, or Dagster's own CLI)."""
    cfg = shlex.quote(failed.config_path)
    part = shlex.quote(f"{failed.day}|{failed.group}")
    return [f"drift-audit --config {cfg} audit --date {failed.day} --groups {failed.group}",
            f"DRIFT_AUDIT_CONFIG={cfg} dagster asset materialize -m drift_audit.definitions "
            f"--select '*' --partition {part}"]


def write_ticket(cfg: Config, failed: FailedRun) -> Path:
    """Write the JSON and Markdown ticket; returns the Markdown path."""
    error = failed.error.strip()[:MAX_ERROR_CHARS]
    record = {**asdict(failed), "error": error, "reproduce": reproduce(failed), "severity": "high",
              "title": f"drift audit failed: {failed.group} {failed.day}", "ui_path": f"/runs/{failed.run_id}"}
    folder = ticket_dir(cfg, failed.day, failed.group)
    atomic_write_text(folder / f"run-{failed.run_id}.json", canonical_json(record) + "\n")
    md = folder / f"run-{failed.run_id}.md"
    atomic_write_text(md, _markdown(record))
    return md


def _markdown(r: dict) -> str:  # type: ignore[type-arg]
    step = f"`{r['step']}`" if r["step"] else "(outside a step)"
    lines = [
        f"# {r['title']}", "",
        f"- **Partition**: `{r['day']}|{r['group']}` (date `{r['day']}`, feature group `{r['group']}`)",
        f"- **Run**: `{r['run_id']}` (job `{r['job']}`, trigger `{r['trigger']}`; Dagster UI: `{r['ui_path']}`)",
        f"- **Failed step**: {step}",
        f"- **Severity**: {r['severity']} — the partition has no current audit until this is fixed", "",
        "## Error", "", f"`{r['error_type']}`", "", "```", r["error"], "```", "",
        "## Reproduce", "", "```sh", *r["reproduce"], "```", "",
        "## Next steps", "",
        "1. Read the error: DriftAuditError messages name the file, column or contract line at fault.",
        "2. Fix the input or configuration (or the code), then re-run the partition with a command above.",
        "3. The partition's previous outputs, if any, are untouched: failed runs never leave partial files.",
        "",
    ]
    return "\n".join(lines)
