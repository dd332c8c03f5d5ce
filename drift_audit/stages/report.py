"""audit_report: write the partition's deliverables under `<output_dir>/<date>/<group>/`, atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drift_audit.config import Config
from drift_audit.core.hashing import canonical_json, sha256_file
from drift_audit.core.report import report_markdown
from drift_audit.stages.window import PartitionWindow
from drift_audit.storage import atomic_dir


def output_dir(cfg: Config, window: PartitionWindow, group: str) -> Path:
    return cfg.output_root / window.day.isoformat() / group


def pretty_json(value: Any) -> str:
    """Readable and still canonical: sorted keys, fixed indentation, trailing newline."""
    return json.dumps(json.loads(canonical_json(value)), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run(cfg: Config, window: PartitionWindow, ctx: dict[str, Any]) -> dict[str, Any]:
    plan = ctx["plan"]
    group = plan["feature_group"]
    final = output_dir(cfg, window, group)
    ctx = {**ctx, "reference_days": cfg.audit.reference_days}
    files: dict[str, str] = {"findings.json": pretty_json(plan["findings"]), "report.md": report_markdown(ctx)}
    for name, text in plan["patches"].items():
        files[f"patches/{name}"] = text
    with atomic_dir(final) as tmp:
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    hashes = {rel: sha256_file(final / rel) for rel in sorted(files)}
    return {"feature_group": group, "date": window.day.isoformat(), "path": cfg.rel(final), "files": hashes,
            "findings": len(plan["findings"]),
            "by_severity": {s: sum(1 for f in plan["findings"] if f["severity"] == s)
                            for s in ("critical", "high", "medium", "low", "info")},
            "markdown_preview": files["report.md"][:3000]}
