"""contract_snapshot: compile every contract, pick the group's, pin it by content hash and Git commit."""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any

from drift_audit.adapters import git, protoc
from drift_audit.config import Config
from drift_audit.core.contract import Contract
from drift_audit.core.errors import UnknownFeatureGroupError
from drift_audit.core.hashing import sha256_json, sha256_text


def snapshot(cfg: Config, group: str) -> dict[str, Any]:
    root = cfg.path(cfg.contracts.root)
    compiled = protoc.compile_contracts(root)
    by_group = {c.group: c for c in compiled.contracts}
    if group not in by_group:
        known = ", ".join(sorted(by_group)) or "none"
        raise UnknownFeatureGroupError(f"no contract under {root} defines feature group {group!r} (found: {known})")
    cfg.group(group)  # the config must also know where the group's data is
    contract = by_group[group].to_dict()
    pin = git.pin(root)
    return {
        "feature_group": group,
        "contract": contract,
        "contract_sha256": sha256_json(contract),
        "descriptor_set_b64": base64.b64encode(compiled.descriptor_set).decode(),
        "descriptor_set_sha256": sha256_text(compiled.descriptor_set.hex()),
        "files": list(compiled.files),
        "git": {k: v for k, v in asdict(pin).items() if k != "repo"},
    }


def contract_of(snapshot_value: dict[str, Any]) -> Contract:
    return Contract.from_dict(snapshot_value["contract"])
