"""Rendering of the per-partition deliverables from plain data (no I/O here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def signer(approval: dict[str, Any]) -> str:
    """`role (who)`, or just the role when no person is configured for it."""
    return approval["role"] if approval["who"] == approval["role"] else f"{approval['role']} ({approval['who']})"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return "_none_\n"
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        out.append("| " + " | ".join(_fmt(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |")
    return "\n".join(out) + "\n"


def report_markdown(ctx: dict[str, Any]) -> str:
    """report.md: contract diffs, statistics, plots, gates, causes, impacted models and the plan."""
    snap, plan, drift, diff, gates, trans = (ctx["contract_snapshot"], ctx["plan"], ctx["drift"], ctx["diff"],
                                             ctx["quality"], ctx["transformation"])
    contract = snap["contract"]
    findings = plan["findings"]
    sides = sorted({s for x in diff["features"] for s in x["sides"]})
    lines = [
        f"# Drift audit — {contract['group']} — {plan['date']}",
        "",
        f"Contract `{contract['message']}` v{contract['version']} (`{contract['file']}`), risk tier "
        f"{contract['risk_tier']}, owners {', '.join(contract['owners']) or '–'}. Pinned at commit "
        f"`{(snap['git']['commit'] or 'none')[:12]}`{' (dirty work tree)' if snap['git']['dirty'] else ''}, "
        f"contract sha256 `{snap['contract_sha256'][:16]}`.",
        "",
        f"**{len(findings)} findings** — "
        + (", ".join(f"{n} {s}" for s, n in _count(findings, "severity")) or "none") + ". "
        f"**{len(plan['actions'])} actions** proposed, {len(plan['patches'])} patches. Also in this folder: "
        "[summary](summary.md), [notification](notification.md), [validation matrix](validation_matrix.md), "
        "[tickets](tickets/), [catalog](catalog/), [patches](patches/), [plots](plots/), `findings.json`.",
        "",
        "## Findings",
        "",
        table(["severity", "feature", "kind", "root cause", "impacted models", "regression", "detected by"],
              [[f["severity"], f["feature"], f["kind"], f["root_cause"] or "—", ", ".join(f["impacted_models"]) or "—",
                f["contemporaneous_regression"], f["detected_by"]] for f in findings]),
        "## Root causes (ranked by confidence)",
        "",
        table(["rank", "root cause", "confidence", "basis", "explains", "alternatives", "evidence"],
              [[r["rank"], r["root_cause"], r["confidence"], r["basis"], ", ".join(r["explains"]),
                ", ".join(f"{a['cause']} ({_fmt(a['confidence'])})" for a in r["alternatives"]) or "—",
                _brief(r["evidence"])] for r in plan["root_causes"]]),
        "## Contract diff",
        "",
        table(["feature", "contract type", *sides],
              [[r["feature"], r["contract_type"], *[
                  f"{r['sides'].get(s, {}).get('type') or 'missing'} ({r['sides'].get(s, {}).get('transition', '–')})"
                  for s in sides]] for r in diff["features"]]),
        "## Statistical variance summary",
        "",
        f"Reference: offline rows of the {ctx['reference_days']} days before the partition; current: each "
        f"online source on the partition day. Thresholds for tier {contract['risk_tier']}: "
        + ", ".join(f"{k} {v:g}" for k, v in sorted(drift["thresholds"].items())) + f"; quorum {drift['quorum']}.",
        "",
        table(["feature", "source", "PSI", "KS / L∞", "W/std · JS", "q-value", "null ref→cur", "mean ref→cur",
               "std ref→cur", "votes", "drifted", "match rate"],
              [[r["name"], r["side"], r.get("psi"), r.get("ks") if r["kind"] == "numeric" else r.get("linf"),
                r.get("wasserstein_norm") if r["kind"] == "numeric" else r.get("js_distance"), r.get("qvalue"),
                f"{_fmt(r.get('null_rate_ref'))}→{_fmt(r.get('null_rate_cur'))}",
                f"{_fmt(r.get('mean_ref'))}→{_fmt(r.get('mean_cur'))}" if r["kind"] == "numeric" else "–",
                f"{_fmt(r.get('std_ref'))}→{_fmt(r.get('std_cur'))}" if r["kind"] == "numeric" else "–",
                r["votes"], r["drifted"], (r.get("skew") or {}).get("match_rate")] for r in drift["features"]]),
        "## Plots",
        "",
        *([f"![{contract['group']}.{name}]({path})" for name, path in ctx.get("plots", [])]
          or ["_no drifted feature to plot_"]),
        "",
        "## Quality gates",
        "",
        table(["gate", "feature", "side", "passed", "observed", "threshold"],
              [[g["gate"], g["feature"], g["side"], g["passed"], g["observed"], g["threshold"]]
               for g in gates["gates"] if not g["passed"] or g["gate"] in ("freshness", "expectations")]),
        "## Transformation audit",
        "",
        table(["feature", "cause", "source", "confidence", "evidence"],
              [[f["feature"], f["kind"], ", ".join(f["sources"]) or "–", f["confidence"], _brief(f["evidence"])]
               for f in trans["findings"]]),
        "## Impacted models",
        "",
        table(["model", "version", "tier", "owner", "metric", "baseline", "worst in window", "drop", "tolerance",
               "regressed"],
              [[m["name"], m["version"], m["risk_tier"], m["owner"], m["metric"], m["baseline"], m["worst_in_window"],
                m["relative_drop"], m["tolerance"], m["regressed"]] for m in plan["models"]]),
        "## Remediation plan",
        "",
    ]
    for a in plan["actions"]:
        lines += action_markdown(a, plan.get("patch_checks", {}))
    lines += ["## Provenance", "", table(["input", "sha256 / version"], ctx["provenance"])]
    return "\n".join(lines)


def action_markdown(a: dict[str, Any], checks: dict[str, dict[str, str]]) -> list[str]:
    """One action of the plan: what, where, how to ship it, how to undo it, who signs."""
    out = [
        f"### {a['id']}: {a['title']}",
        "",
        f"- type: {a['type']}; severity {a['severity']}; finding `{a['finding']}`"
        + (f"; also explains {', '.join(f'`{r}`' for r in a['related_findings'])}" if a["related_findings"] else ""),
        f"- {a['description']}",
        f"- files: {', '.join(f'`{p}`' for p in a['files']) or '–'}"
        + (f"; function `{a['function']}`" if a.get("function") else ""),
    ]
    for key in ("patch", "follow_up_patch"):
        if a.get(key):
            name = a[key].removeprefix("patches/")
            ran = ", ".join(f"{k} {v}" for k, v in checks.get(name, {}).items() if k != "detail")
            label = "patch" if key == "patch" else "patch after the deprecation window"
            out.append(f"- {label}: [`{a[key]}`]({a[key]}) — audit checks: {ran or 'not run'}")
    if not a.get("patch"):
        out.append("- patch: none (manual change, described above)")
    cc = a.get("contract_change")
    if cc:
        out.append(f"- contract: v{cc['from_version']} → v{cc['to_version']} ({cc['bump']}"
                   f"{', BREAKING' if cc['breaking'] else ''}"
                   + (f", deprecation window {cc['deprecation_window']}" if cc["deprecation_window"] else "")
                   + "); changes: " + "; ".join(cc["schema_changes"]))
        out.append("- migration: " + "; ".join(cc["migration"]))
    for step in ("dry_run", "apply", "verify"):
        cmds = a["commands"].get(step, [])
        if cmds:
            out.append(f"- {step.replace('_', ' ')}: " + "; ".join(f"`{c}`" for c in cmds))
    out += [
        "- rollback: " + "; ".join(a["rollback"]),
        "- canary: " + " → ".join(f"{s['stage']} ({s['days']}d)" for s in a["canary"]["stages"])
        + "; watch " + "; ".join(a["canary"]["metrics"]) + "; abort if " + "; ".join(a["canary"]["abort_if"]),
        f"- owners: {', '.join(a['owners'])}; approvals: "
        + "; ".join(signer(p) for p in a["approvals"]),
    ]
    if a.get("escalation"):
        e = a["escalation"]
        out.append(f"- escalation to {e['to']}: acknowledge within {e['requested_sla']['acknowledge']}, "
                   f"mitigate within {e['requested_sla']['mitigate']}")
    for item in a.get("follow_up", []):
        out.append(f"- follow-up: {item}")
    out.append("")
    return out


def _count(findings: Sequence[dict[str, Any]], key: str) -> list[tuple[str, int]]:
    order = ["critical", "high", "medium", "low", "info"]
    counts: dict[str, int] = {}
    for f in findings:
        counts[f[key]] = counts.get(f[key], 0) + 1
    return sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)


def _brief(evidence: dict[str, Any]) -> str:
    keys = [k for k in ("shift", "unit", "factor", "online_window", "declared_window", "sentinel", "share",
                        "explained_share", "observed_ratio", "method") if k in evidence]
    return ", ".join(f"{k}={_fmt(evidence[k])}" for k in keys)
