"""audit_report: write the partition's deliverables under `<output_dir>/<date>/<group>/`, atomically, then
append the decision to the change log (`<output_dir>/ledger.jsonl`) and, if configured, log an MLflow run.

Everything in the folder is a function of the inputs (byte-identical on a re-run); wall-clock time goes
only into the ledger entry and the MLflow run.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drift_audit.config import Config
from drift_audit.core import ledger, plots
from drift_audit.core.deliverables import catalog, html, notification, summary, tickets, validation
from drift_audit.core.hashing import canonical_json, sha256_file
from drift_audit.core.report import report_markdown, signer
from drift_audit.stages.window import PartitionWindow
from drift_audit.storage import atomic_dir


def output_dir(cfg: Config, window: PartitionWindow, group: str) -> Path:
    return cfg.output_root / window.day.isoformat() / group


def ledger_path(cfg: Config) -> Path:
    return cfg.output_root / ledger.FILE_NAME


def pretty_json(value: Any) -> str:
    """Readable and still canonical: sorted keys, fixed indentation, trailing newline."""
    return json.dumps(json.loads(canonical_json(value)), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _sha(content: str | bytes) -> str:
    return hashlib.sha256(content.encode("utf-8") if isinstance(content, str) else content).hexdigest()


def render(cfg: Config, window: PartitionWindow, ctx: dict[str, Any]) -> dict[str, str | bytes]:
    """Every file of the partition folder, by relative path (pure: no I/O, no clock)."""
    plan, drift, snap = ctx["plan"], ctx["drift"], ctx["contract_snapshot"]
    contract = snap["contract"]
    group, day = plan["feature_group"], plan["date"]
    pii = {f["name"] for f in contract["features"] if f["pii_class"]}
    names = plots.features_to_plot(drift, plan["findings"], pii)
    images = {f"plots/{n}.png": plots.render(group, n, [r for r in drift["features"] if r["name"] == n],
                                             drift.get("exact", {})) for n in names}
    ctx = {**ctx, "reference_days": cfg.audit.reference_days, "plots": [(n, f"plots/{n}.png") for n in names]}
    report_md = report_markdown(ctx)
    files: dict[str, str | bytes] = {
        "findings.json": pretty_json(plan["findings"]), "report.md": report_md,
        "report.html": html.render(report_md, f"Drift audit — {group} — {day}", images),
        "summary.md": summary.render(group, day, plan), **images,
    }
    for name, text in plan["patches"].items():
        files[f"patches/{name}"] = text
    matrix = validation.matrix(group, day, ctx)
    files["validation_matrix.json"] = pretty_json(matrix)
    files["validation_matrix.md"] = validation.markdown(matrix)
    start = (window.day - timedelta(days=cfg.audit.reference_days - 1)).isoformat()
    files["notification.md"] = notification.render(contract, plan, (start, day))
    evidence = [(rel, _sha(files[rel])) for rel in ("findings.json", "report.md", "report.html", *sorted(images))]
    for rel, text in tickets.render_all(contract, plan, snap["git"]["commit"], evidence).items():
        files[f"tickets/{rel}"] = text
    entries = catalog.entries(snap, plan, plan["sources"], _sha(report_md))
    for e in entries:
        files[f"catalog/{e['feature'].split('.', 1)[1]}.md"] = catalog.markdown(e)
    files["catalog/entries.json"] = pretty_json(entries)
    return files


def run(cfg: Config, window: PartitionWindow, ctx: dict[str, Any], actor: str = "drift_audit pipeline"
        ) -> dict[str, Any]:
    plan = ctx["plan"]
    group = plan["feature_group"]
    final = output_dir(cfg, window, group)
    files = render(cfg, window, ctx)
    with atomic_dir(final) as tmp:
        for rel, content in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    hashes = {rel: sha256_file(final / rel) for rel in sorted(files)}
    entry = ledger.append(
        ledger_path(cfg), time=datetime.now(UTC).isoformat(timespec="seconds"),
        partition=f"{window.day.isoformat()}|{group}", actor=f"{_user()} via {actor}", decision=decision(plan),
        approvals_required=sorted({signer(p) for a in plan["actions"] for p in a["approvals"]}),
        evidence=[{"path": f"{window.day.isoformat()}/{group}/{rel}", "sha256": h} for rel, h in hashes.items()])
    out = {"feature_group": group, "date": window.day.isoformat(), "path": cfg.rel(final), "files": hashes,
           "findings": len(plan["findings"]),
           "by_severity": {s: sum(1 for f in plan["findings"] if f["severity"] == s)
                           for s in ("critical", "high", "medium", "low", "info")},
           "markdown_preview": f"{files['summary.md']!s}\n---\n\n{files['report.md']!s}"[:3000],
           "ledger_entry": {"seq": entry["seq"], "hash": entry["hash"], "path": cfg.rel(ledger_path(cfg))}}
    if cfg.report.mlflow_runs:
        from drift_audit.adapters import mlflow_audit_runs
        from drift_audit.adapters.mlflow_registry import resolve_tracking_uri

        uri = resolve_tracking_uri(cfg.mlflow.tracking_uri, Path(cfg.base_dir))
        out["mlflow_run_id"] = mlflow_audit_runs.log_audit(
            uri, cfg.report.mlflow_experiment, cfg.output_root / "_mlflow_artifacts", window.day.isoformat(), group,
            plan, ctx["drift"], final)
    return out


def decision(plan: dict[str, Any]) -> str:
    actions = plan["actions"]
    if not actions:
        return "no action: no finding above info"
    patches = sum(1 for a in actions if a.get("patch"))
    escalated = sum(1 for a in actions if a.get("escalation"))
    breaking = sum(1 for a in actions if a.get("breaking"))
    return (f"proposed {len(actions)} actions ({patches} with patches, {escalated} escalated"
            f"{f', {breaking} breaking' if breaking else ''}); awaiting approvals; nothing applied")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"
