"""The rules of `drift-audit contracts check` that buf cannot know, over two versions of the contracts.

buf sees protobuf; these rules see features. A breaking change (buf's, or one of ours: a feature removed
or retyped, a range, allowed-value set or nullability narrowed, entity keys changed) needs a MAJOR
version bump and a deprecation window. Removing or retyping a feature a registered model consumes is
always an error naming the model. A PII feature must declare its tokenization. Changing a unit,
timezone, window or aggregation needs a version bump. Every violation names file:line, rule and fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from drift_audit.core.contract import TOKENIZATIONS, Contract, Feature, key_line

MEANING = ("unit", "timezone", "window", "aggregation")


@dataclass(frozen=True)
class Change:
    """One located change or problem: from buf (rule = its id) or from our rules."""

    file: str  # relative to the contracts folder
    line: int
    rule: str
    message: str
    fix: str = ""
    source: str = "drift-audit"  # "buf lint" | "buf breaking" | "drift-audit"
    group: str = ""
    feature: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    violations: tuple[Change, ...]  # exit code 1 when any
    notices: tuple[Change, ...]  # accepted breaking changes and other information


LINT_FIXES = {
    "FIELD_LOWER_SNAKE_CASE": "rename the field to lower_snake_case",
    "ENUM_VALUE_UPPER_SNAKE_CASE": "rename the value to UPPER_SNAKE_CASE",
    "ENUM_VALUE_PREFIX": "prefix every value with the enum name in UPPER_SNAKE_CASE",
    "ENUM_ZERO_VALUE_SUFFIX": "name the zero value <ENUM_NAME>_UNSPECIFIED",
    "PACKAGE_DIRECTORY_MATCH": "move the file to the folder that matches its package",
    "PACKAGE_VERSION_SUFFIX": "end the package with its major version, e.g. features.orders.v1",
    "MESSAGE_PASCAL_CASE": "rename the message to PascalCase",
    "ENUM_PASCAL_CASE": "rename the enum to PascalCase",
    "IMPORT_USED": "remove the unused import",
}
BREAKING_FIXES = {
    "FIELD_NO_DELETE": "keep the field, or delete it with `reserved <number>; reserved \"<name>\";`",
    "FIELD_SAME_TYPE": "keep the type and add a new field with the new type instead",
    "FIELD_SAME_NAME": "keep the name (consumers read features by name); add a new field instead",
    "FIELD_SAME_JSON_NAME": "keep the name (consumers read features by name); add a new field instead",
    "ENUM_VALUE_NO_DELETE": "keep the enum value, or delete it with `reserved <number>;` in the enum",
    "RESERVED_MESSAGE_NO_DELETE": "restore the reserved numbers and names: once reserved they stay reserved",
    "RESERVED_ENUM_NO_DELETE": "restore the reserved numbers and names: once reserved they stay reserved",
    "FILE_NO_DELETE": "keep the contract until its deprecation window has passed and no model consumes it",
}


def lint_changes(issues: Sequence[Change]) -> list[Change]:
    """buf lint issues as violations with a fix."""
    return [Change(i.file, i.line, f"buf:{i.rule}", i.message,
                   LINT_FIXES.get(i.rule, f"change the contract as buf describes, or except {i.rule} in buf.yaml"),
                   "buf lint") for i in issues]


def pii_rules(contracts: Sequence[Contract], texts: Mapping[str, str]) -> list[Change]:
    """Every PII feature declares how it is tokenized."""
    out = []
    for c in contracts:
        for f in c.features:
            if f.is_pii and not f.tokenization:
                line = key_line(texts.get(c.file, ""), f.line, "pii_class")
                out.append(Change(
                    c.file, line, "pii-tokenization",
                    f"PII feature {c.group}.{f.name} (pii_class {f.pii_class}) declares no tokenization",
                    f"tokenize before storage and declare it: tokenization: one of {', '.join(sorted(TOKENIZATIONS))}",
                    group=c.group, feature=f.name))
    return out


def consumers_of(consumers: Mapping[str, Sequence[str]], group: str, feature: str) -> list[str]:
    """Models whose feature list names `group.feature` or `group.*`."""
    wanted = {f"{group}.{feature}", f"{group}.*"}
    return sorted(m for m, feats in consumers.items() if wanted & set(feats))


def _bump(old: Contract, new: Contract) -> str:
    o, n = old.semver, new.semver
    if n < o:
        return "decrease"
    if n[0] > o[0]:
        return "major"
    if n[1] > o[1]:
        return "minor"
    return "patch" if n[2] > o[2] else "none"


def _narrowings(old: Feature, new: Feature) -> list[tuple[str, str, str]]:
    """(rule, option key, message) for every way `new` accepts less than `old` (breaking for serving)."""
    out = []
    if new.min is not None and (old.min is None or new.min > old.min):
        out.append(("range-narrowed", "min", f"min raised from {_num(old.min)} to {_num(new.min)}"))
    if new.max is not None and (old.max is None or new.max < old.max):
        out.append(("range-narrowed", "max", f"max lowered from {_num(old.max)} to {_num(new.max)}"))
    if new.allowed_values:
        dropped = sorted(set(old.allowed_values) - set(new.allowed_values)) if old.allowed_values else []
        if dropped or not old.allowed_values:
            what = f"no longer allows {dropped}" if dropped else "now restricts a previously open set"
            out.append(("allowed-values-narrowed", "allowed_values", what))
    if old.nullable and not new.nullable:
        out.append(("nullability-narrowed", "nullable", "was nullable and no longer is"))
    elif new.nullable and new.max_null_ratio is not None and (
            old.max_null_ratio is None or new.max_null_ratio < old.max_null_ratio):
        out.append(("nullability-narrowed", "max_null_ratio",
                    f"max_null_ratio lowered from {_num(old.max_null_ratio)} to {_num(new.max_null_ratio)}"))
    return out


def _num(value: float | None) -> str:
    return "unset" if value is None else f"{value:g}"


def compare(old: Sequence[Contract], new: Sequence[Contract], breaking: Sequence[Change],
            consumers: Mapping[str, Sequence[str]], consumers_source: str, texts: Mapping[str, str],
            against: str) -> Verdict:
    """The version rules over `old` (at `against`) and `new`; `breaking` are buf's breaking changes."""
    new_by = {c.group: c for c in new}
    by_file: dict[str, list[Change]] = {}
    for issue in breaking:
        by_file.setdefault(issue.file, []).append(issue)
    files_with_groups = {c.file for c in new}
    violations = [_buf_breaking(i, "the file declares no feature group whose version could be bumped")
                  for f, issues in sorted(by_file.items()) if f not in files_with_groups for i in issues]
    notices: list[Change] = []
    for o in sorted(old, key=lambda c: c.group):
        n = new_by.get(o.group)
        if n is None:
            violations += _removed_group(o, consumers, consumers_source, against)
            continue
        v, notes = _group_rules(o, n, by_file.get(n.file, []), consumers, consumers_source,
                                texts.get(n.file, ""), against)
        violations += v
        notices += notes
    return Verdict(tuple(_sorted(violations)), tuple(_sorted(notices)))


def _removed_group(o: Contract, consumers: Mapping[str, Sequence[str]], source: str, against: str) -> list[Change]:
    return [Change(o.file, o.line, "consumed-feature-removed",
                   f"feature group {o.group} (at {against}) was removed, but {_models(models, source)} "
                   f"consume(s) {', '.join(feats)}",
                   "keep the contract until the models stop consuming it (update their drift_audit.features "
                   "tags), then remove it", group=o.group)
            for models, feats in _consumed(consumers, o, [f.name for f in o.features])]


def _group_rules(o: Contract, n: Contract, buf_breaking: Sequence[Change], consumers: Mapping[str, Sequence[str]],
                 source: str, text: str, against: str) -> tuple[list[Change], list[Change]]:
    """(violations, notices) of one group present at `against` and now."""
    g = n.group
    violations: list[Change] = []
    changes = _feature_changes(o, n, text, against)
    for rule, feature, line, message in changes["consumed"]:
        models = consumers_of(consumers, g, feature)
        if models:
            violations.append(Change(
                n.file, line, f"consumed-feature-{rule}",
                f"{g}.{feature} {message}, and {_models(models, source)} consume(s) it",
                f"keep {feature} as it was (mark it deprecated in its description) until "
                f"{', '.join(models)} stop(s) consuming it; add the new shape as a new field",
                group=g, feature=feature))
    version_line = key_line(text, n.line, "version", "};")
    bump = _bump(o, n)
    if bump == "decrease":
        violations.append(Change(n.file, version_line, "version-decreased",
                                 f"{g}: version went down from {o.version} to {n.version}",
                                 f"set a version above {o.version}", group=g))
    if bump in ("none", "decrease"):
        violations += [Change(n.file, line, f"{key}-changed-without-bump",
                              f"{g}.{feature}: {message} and the version stayed {n.version}",
                              f"bump the version (MAJOR when consumers read the old {key}): version: "
                              f"\"{n.semver[0] + 1}.0.0\" with a deprecation_window", group=g, feature=feature)
                       for key, feature, line, message in changes["meaning"]]
    violations += changes["unreserved"]
    breaking = [_buf_breaking(i) for i in buf_breaking] + changes["breaking"]
    notices: list[Change] = []
    if breaking and bump != "major":
        went = "stayed " + n.version if bump == "none" else f"went {o.version} → {n.version} ({bump})"
        violations += [Change(c.file, c.line, c.rule,
                              f"{c.message} — a breaking change, and the version {went}: not a MAJOR bump",
                              f"{c.fix}; or bump to version: \"{o.semver[0] + 1}.0.0\" and set "
                              "deprecation_window (e.g. \"30d\")", c.source, g, c.feature) for c in breaking]
    elif breaking and not n.deprecation_window:
        violations.append(Change(n.file, version_line, "deprecation-window",
                                 f"{g}: MAJOR bump {o.version} → {n.version} for {len(breaking)} breaking "
                                 "change(s) without a deprecation_window",
                                 "set deprecation_window in the group options, e.g. deprecation_window: \"30d\"",
                                 group=g))
    elif breaking:
        notices += [Change(c.file, c.line, c.rule, f"{c.message} — accepted: MAJOR bump {o.version} → "
                           f"{n.version}, deprecation window {n.deprecation_window}", "", c.source, g, c.feature)
                    for c in breaking]
    if bump == "none" and _content(o) != _content(n) and not changes["meaning"]:
        notices.append(Change(n.file, version_line, "changed-without-bump",
                              f"{g} changed since {against} but kept version {n.version}",
                              "bump MINOR for additions, PATCH for documentation", group=g))
    return violations, notices


def _buf_breaking(issue: Change, why: str = "") -> Change:
    return Change(issue.file, issue.line, f"buf:{issue.rule}", issue.message + (f" ({why})" if why else ""),
                  BREAKING_FIXES.get(issue.rule, "revert the change"), "buf breaking")


def _feature_changes(o: Contract, n: Contract, text: str, against: str) -> dict[str, Any]:
    """Changes of one group's features: consumed (removed/retyped), breaking for serving, meaning, unreserved.

    Removing, renaming and retyping fields are breaking changes that buf reports (FIELD_NO_DELETE,
    FIELD_SAME_NAME, FIELD_SAME_TYPE); here they matter for the models that consume them.
    """
    consumed: list[tuple[str, str, int, str]] = []
    breaking: list[Change] = []
    meaning: list[tuple[str, str, int, str]] = []
    unreserved: list[Change] = []
    new_feats = {f.name: f for f in n.features}
    for of in o.features:
        nf = new_feats.get(of.name)
        if nf is None:
            consumed.append(("removed", of.name, n.line, f"(field {of.number}, {o.file}:{of.line} at {against}) "
                                                         "was removed"))
            number_ok, name_ok = n.is_reserved(of.number, of.name)
            number_ok = number_ok or any(f.number == of.number for f in n.features)  # renamed, not removed
            if not (number_ok and name_ok):
                missing = " and ".join(x for x, ok in ((f"reserved {of.number};", number_ok),
                                                       (f"reserved \"{of.name}\";", name_ok)) if not ok)
                unreserved.append(Change(n.file, n.line, "removed-field-not-reserved",
                                         f"{n.group}.{of.name} (field {of.number}) was removed or renamed without "
                                         "reserving its number and name, so a later field could reuse them",
                                         f"add {missing} to message {n.message.rsplit('.', 1)[-1]}",
                                         group=n.group, feature=of.name))
            continue
        if (of.type, of.proto_type) != (nf.type, nf.proto_type):
            consumed.append(("retyped", of.name, nf.line, f"changed type from {of.proto_type} to {nf.proto_type}"))
        for rule, key, message in _narrowings(of, nf):
            breaking.append(Change(n.file, key_line(text, nf.line, key), rule, f"{n.group}.{of.name}: {message} (breaking for serving: "
                                   "values valid before are rejected now)",
                                   f"restore the previous {key}", "drift-audit", n.group, of.name))
        for key in MEANING:
            before, after = getattr(of, key), getattr(nf, key)
            if before != after:
                meaning.append((key, of.name, key_line(text, nf.line, key),
                                f"{key} changed from {before or 'unset'!r} to {after or 'unset'!r}"))
    if (o.entity_keys, o.event_timestamp) != (n.entity_keys, n.event_timestamp):
        breaking.append(Change(n.file, key_line(text, n.line, "entity_keys", "};"), "entity-keys-changed",
                               f"{n.group}: entity keys / event timestamp changed from "
                               f"{list(o.entity_keys)} / {o.event_timestamp} to {list(n.entity_keys)} / "
                               f"{n.event_timestamp}", "keep the join keys; a new key is a new feature group",
                               "drift-audit", n.group))
    return {"consumed": consumed, "breaking": breaking, "meaning": meaning, "unreserved": unreserved}


def _consumed(consumers: Mapping[str, Sequence[str]], c: Contract, features: list[str]
              ) -> list[tuple[list[str], list[str]]]:
    by_models: dict[tuple[str, ...], list[str]] = {}
    for f in features:
        models = consumers_of(consumers, c.group, f)
        if models:
            by_models.setdefault(tuple(models), []).append(f)
    return [(list(m), feats) for m, feats in sorted(by_models.items())]


def _models(models: Sequence[str], source: str) -> str:
    return f"model(s) {', '.join(models)} (per {source})"


def _content(c: Contract) -> dict[str, Any]:
    """The contract without source positions: what a version number versions."""
    data = c.to_dict()
    data.pop("line")
    for f in data["features"]:
        f.pop("line")
    return data


def _sorted(changes: list[Change]) -> list[Change]:
    return sorted(set(changes), key=lambda c: (c.file, c.line, c.rule, c.feature, c.message))
