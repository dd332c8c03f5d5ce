"""Contract updates as patches: the semantic-version bump, and for breaking changes a deprecation window.

Compatible changes (a new allowed value, a default) are one patch with a MINOR bump. A breaking change
(a feature whose type must change) is never made in place: the first patch adds a replacement field,
marks the old one `deprecated`, declares the deprecation window and bumps MINOR, so every consumer keeps
working; the second patch, applied once the window has passed and no model reads the old field, removes
it (its number and name reserved) with a MAJOR bump.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drift_audit.core import patches
from drift_audit.core.contract import Contract, Feature, parse_semver
from drift_audit.core.findings import Finding

DEFAULT_DEPRECATION_WINDOW = "30d"
ZERO_DEFAULTS = {"float64": "0", "float32": "0", "int32": "0", "int64": "0", "bool": "false"}
CONTRACT_COMMANDS = {"dry_run": ["drift-audit contracts check --against HEAD"], "apply": [],
                     "verify": ["drift-audit contracts check --against HEAD~1"]}


def _change(c: Contract, file: str | None, old: str, new: str | None, bump: str, breaking: bool,
            schema: list[str], migration: list[str], window: str | None = None) -> dict[str, Any]:
    return {"file": file, "from_version": old, "to_version": new, "bump": bump, "breaking": breaking,
            "deprecation_window": window, "schema_changes": schema, "migration": migration, "group": c.group}


def accept_values(f: Finding, feat: Feature, c: Contract, text: str | None, file: str | None) -> dict[str, Any]:
    """Extend the allowed set with the values serving emits (MINOR: consumers must accept a new value)."""
    examples = [e["value"] for e in f.evidence.get("examples", [])]
    enum = feat.proto_type if "." in feat.proto_type else None
    new = text
    for value in examples:
        new = patches.add_allowed_value(new or "", feat.name, value, enum) or new
    bumped = patches.bump_version(new, "minor") if new and new != text else None
    where = f"enum {enum.rsplit('.', 1)[-1]}" if enum else "allowed_values"
    return {
        "type": "contract_update",
        "title": f"Accept {', '.join(map(repr, examples))} in {c.group}.{feat.name} (MINOR bump)",
        "description": "Serving emits values the contract does not allow. If they are legitimate, extend the "
                       "allowed set: backward compatible for producers, a MINOR bump, and consumers must "
                       "handle the new value before it is served. If not, reject this patch and fix the producer "
                       "(the escalation ticket asks the upstream owner).",
        "files": [file] if file else [],
        "patch_text": patches.unified(file, text, bumped[0]) if bumped and text and file else None,
        "contract_change": _change(c, file, c.version, bumped[2] if bumped else None, "minor", False,
                                   [f"{feat.name}: {where} += {', '.join(examples)}"],
                                   [f"consumers with exhaustive handling of {feat.name} add a branch for "
                                    f"{', '.join(map(repr, examples))} before the new version is served",
                                    "models one-hot encoding the feature map the new value to a known bucket or retrain"]),
        "commands": CONTRACT_COMMANDS,
        "rollback": [f"revert the contract commit: v{c.version} stays valid for every existing consumer"],
        "downtime": "none",
    }


def add_default(f: Finding, feat: Feature, c: Contract, text: str | None, file: str | None) -> dict[str, Any]:
    """Declare the value serving uses when a value is missing (MINOR)."""
    value = ZERO_DEFAULTS.get(feat.type, "")
    new = patches.set_feature_option(text, feat.name, "default_value", f'"{value}"') if text else None
    bumped = patches.bump_version(new, "minor") if new else None
    return {
        "type": "contract_update", "title": f"Declare a default for {c.group}.{feat.name} (MINOR bump)",
        "description": f"Online values of {feat.name} are missing and the contract declares no default, so each "
                       f"consumer improvises one. The patch proposes {value!r}; the feature owner confirms the "
                       f"value (it must match what training used for missing values).",
        "files": [file] if file else [],
        "patch_text": patches.unified(file, text, bumped[0]) if bumped and text and file else None,
        "contract_change": _change(c, file, c.version, bumped[2] if bumped else None, "minor", False,
                                   [f"{feat.name}: default_value = {value!r}"],
                                   [f"consumers drop their own fallback for {feat.name} and rely on the contract's"]),
        "commands": CONTRACT_COMMANDS,
        "rollback": ["revert the contract commit"], "downtime": "none",
    }


def retype(f: Finding, feat: Feature, c: Contract, texts: Mapping[str, str | None], feast_file: str | None,
           feast_types: Mapping[str, str]) -> dict[str, Any]:
    """A breaking type change in two compatible steps, with the deprecation window between them."""
    observed = f.evidence.get("observed_type") or "float64"
    text, file = texts.get("contract"), texts.get("contract_file")
    new_name = f"{feat.name}_v{parse_semver(c.version)[0] + 1}"
    window = c.deprecation_window or DEFAULT_DEPRECATION_WINDOW
    major, minor, _ = parse_semver(c.version)
    v1, v2 = f"{major}.{minor + 1}.0", f"{major + 1}.0.0"
    step1 = step2 = None
    if text and file:
        step1 = patches.deprecate_field(text, feat.name)
        step1 = step1 and patches.add_field_after(step1, feat.name, new_name, patches.PROTO_TYPES.get(observed, "double"),
                                                  f"Replaces {feat.name} ({feat.type}), deprecated: the values are "
                                                  f"not integral. {feat.name} is removed after {window}.")
        step1 = step1 and patches.set_group_option(step1, "deprecation_window", f'"{window}"')
        step1 = step1 and _bumped(step1, "minor")
        removed = step1 and patches.remove_field(step1, feat.name)
        step2 = removed and _bumped(removed, "major")
    diff1 = patches.unified(file, text, step1) if file and text and step1 else None
    feast = texts.get("feast")
    if diff1 and feast and feast_file:
        added = patches.add_feast_field(feast, c.feature_view, new_name, feast_types.get(observed, "Float64"))
        diff1 += patches.unified(feast_file, feast, added) if added else ""
    users = ", ".join(f.impacted_models) or "every consumer"
    return {
        "type": "contract_update", "breaking": True,
        "title": f"Retype {c.group}.{feat.name} to {observed} via {new_name} (deprecation window {window}, then MAJOR)",
        "description": f"The data holds non-integral values ({f.evidence.get('non_integral_values')}) in a feature "
                       f"the contract declares {feat.type}: a cast would lose information, so the type must change. "
                       f"Changing a field's type in place breaks consumers; instead {new_name} ({observed}) is "
                       f"added and {feat.name} deprecated (v{v1}, MINOR), and after {window} {feat.name} is "
                       f"removed (v{v2}, MAJOR, patch applied on top of the first).",
        "files": [p for p in (file, feast_file) if p],
        "patch_text": diff1,
        "follow_up_patch_text": patches.unified(file, step1, step2) if file and step1 and step2 else None,
        "contract_change": _change(
            c, file, c.version, v1, "minor, then major", True,
            [f"{new_name}: new field ({observed})", f"{feat.name}: deprecated, removed in v{v2} after {window}"],
            [f"producers write both {feat.name} and {new_name} during the window",
             f"consumers ({users}) read {new_name} and retrain or re-validate on it within {window}",
             f"after {window}, when `drift-audit contracts check` names no model reading {feat.name}, apply the "
             f"second patch (v{v2})"], window),
        "commands": CONTRACT_COMMANDS,
        "rollback": ["before the window ends: revert the first patch (nothing reads the new field yet)",
                     f"after the MAJOR release: v{c.version}-compatible producers keep {feat.name}'s number reserved; "
                     "restore the field from the reverted commit if a consumer was missed"],
        "downtime": f"none; consumers must migrate within {window}",
    }


def _bumped(text: str, part: str) -> str | None:
    out = patches.bump_version(text, part)
    return out[0] if out else None
