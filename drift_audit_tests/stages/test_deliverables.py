"""The audit's deliverables over the demo, materialized through Dagster (the `audited_demo` fixture)."""

import base64
import hashlib
import io
import json
import subprocess
import sys
import types
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dagster import AssetKey
from PIL import Image

from drift_audit.adapters.protoc import compile_contracts
from drift_audit.core import ledger
from drift_audit.core.deliverables import summary
from drift_audit.defs.assets.common import input_hashes
from drift_audit.demo.generate import CLEAN, INJECTED, PII_VALUES_SAMPLE
from drift_audit.stages import report
from drift_audit.stages.window import PartitionWindow, parse_day
from drift_audit_tests.checkout import buf, fresh_checkout, git_apply
from drift_audit_tests.conftest import SECRET

pytestmark = pytest.mark.e2e
DAY = "2026-10-21"
UPSTREAM = ("contract_snapshot", "contract_diff", "drift_deltas", "quality_gates", "transformation_audit",
            "remediation_plan")


@pytest.fixture(scope="module")
def folders(audited_demo) -> dict[str, Path]:
    for run in audited_demo["runs"]:
        assert run.success, f"{run.group}: {run.error}"
    return {run.group: Path(run.report_dir) for run in audited_demo["runs"]}


def _stored(cfg, asset: str, group: str) -> dict:
    return json.loads((cfg.output_root / "_assets" / asset / DAY / group / "value.json").read_text())


def _plan(audited_demo, group: str) -> dict:
    return _stored(audited_demo["config"], "remediation_plan", group)


def _contract(audited_demo, group: str) -> dict:
    return _stored(audited_demo["config"], "contract_snapshot", group)["contract"]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def test_every_partition_writes_every_deliverable(audited_demo, folders):
    for group, folder in folders.items():
        files = set(_files(folder))
        plan = _plan(audited_demo, group)
        expected = {"findings.json", "report.md", "report.html", "summary.md", "notification.md",
                    "validation_matrix.md", "validation_matrix.json", "catalog/entries.json"}
        expected |= {f"catalog/{f['name']}.md" for f in _contract(audited_demo, group)["features"]}
        expected |= {f"patches/{name}" for name in plan["patches"]}
        expected |= {f"tickets/{a['id']}-{'PR' if a['patch'] else 'TICKET'}.md" for a in plan["actions"]}
        assert expected <= files, expected - files
        assert {f for f in files if f.startswith("tickets/") and "ESCALATION" in f} == {
            f"tickets/{a['id']}-ESCALATION.md" for a in plan["actions"] if a["escalation"]}


def test_html_report_parses_and_embeds_its_plots(folders):
    for folder in folders.values():
        parser = _Html()
        parser.feed((folder / "report.html").read_text())
        parser.close()
        plots = {p.relative_to(folder).as_posix(): p.read_bytes() for p in (folder / "plots").glob("*.png")} \
            if (folder / "plots").is_dir() else {}
        embedded = [base64.b64decode(i["src"].split(",", 1)[1]) for i in parser.images]
        assert sorted(embedded) == sorted(plots.values())
        assert all(i["src"].startswith("data:image/png;base64,") for i in parser.images)


@pytest.mark.parametrize(("group", "feature"), [
    ("transactions", "txn_amount_usd"), ("transactions", "last_txn_hour"), ("transactions", "txn_count_7d"),
    ("customer_profile", "loyalty_tier"), ("engagement", "days_since_last_login"), ("engagement", "sessions_7d"),
])
def test_each_drifted_injected_feature_has_a_real_plot(folders, group, feature):
    png = (folders[group] / "plots" / f"{feature}.png").read_bytes()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 800 and len(png) > 20_000
    assert f"{group}.{feature}" in image.info["Title"]
    assert (folders[group] / "report.md").read_text().count(f"(plots/{feature}.png)") == 1


def test_no_plot_of_a_pii_feature_and_none_of_clean_features(folders):
    assert not (folders["customer_profile"] / "plots" / "email.png").exists()
    for group, feature in CLEAN:
        assert not (folders[group] / "plots" / f"{feature}.png").exists()


def test_summary_is_at_most_300_words_with_its_three_parts(folders):
    for folder in folders.values():
        text = (folder / "summary.md").read_text()
        assert summary.words(text) <= 300
        for part in ("## Root causes", "## Mitigation status", "## Residual risk"):
            assert part in text


def test_no_raw_pii_value_or_secret_in_any_output_or_dagster_record(audited_demo):
    """Every file under the output folder (reports, asset values, samples, staging) and the Dagster instance
    (event log, metadata, run config), byte for byte — parquet pages included, so samples are read back and
    searched too. The secret is the demo config's `${DRIFT_AUDIT_TEST_SECRET}` Redis password."""
    import pyarrow.parquet as pq

    cfg, instance = audited_demo["config"], audited_demo["instance"]
    assert SECRET in cfg.feast.online_store.connection_string
    needles = [v.encode() for v in PII_VALUES_SAMPLE] + [SECRET.encode()]
    checked = 0
    for root in [cfg.output_root, Path(instance.root_directory)]:
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if path.suffix == ".parquet":  # compressed pages: search the decoded values
                data = pq.read_table(path).to_pandas().to_csv().encode()
            checked += 1
            assert not any(n in data for n in needles), f"raw PII value or secret in {path}"
    assert checked > 100


def test_ledger_has_a_verified_entry_for_every_materialization(audited_demo):
    cfg, instance = audited_demo["config"], audited_demo["instance"]
    path = report.ledger_path(cfg)
    result = ledger.verify(path)
    assert result.ok, result.first_bad
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert {f"{DAY}|{g}" for g in cfg.groups} <= {e["partition"] for e in entries}
    records = instance.fetch_materializations(AssetKey("audit_report"), limit=100).records
    anchors = [r.asset_materialization.metadata["ledger_entry"].value for r in records]
    assert len(anchors) >= len(cfg.groups)
    for anchor in anchors:
        assert ledger.verify(path, anchor=anchor["hash"]).ok
        entry = next(e for e in entries if e["hash"] == anchor["hash"])
        assert entry["actor"].endswith(tuple(f"dagster run {r.run_id}" for r in records))
        for ev in entry["evidence"]:  # evidence hashes match the files (until a later run rewrites them)
            assert (cfg.output_root / ev["path"]).is_file()
    md = records[0].asset_materialization.metadata["report"].value
    assert md.startswith("# Executive summary") and "# Drift audit" in md


def _module(path: Path) -> types.ModuleType:
    module = types.ModuleType(path.stem)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def test_patches_apply_to_a_fresh_checkout_compile_and_fix_the_demo(audited_demo, folders, tmp_path):
    rng = np.random.default_rng(11)
    n = 300
    inputs = {
        "txn_amount_usd": (pd.Series(rng.integers(0, 900_000, n)),),
        "last_txn_hour": (pd.Series(pd.to_datetime(rng.integers(1.7e9, 1.8e9, n), unit="s", utc=True)),),
        "txn_count_7d": (pd.DataFrame(rng.poisson(2, (n, 9))),),
        "email_token": (pd.Series([f"someone{i}@example.net" for i in range(n)]),),
        "days_since_last_login": (pd.Series(np.where(rng.uniform(size=n) < 0.3, np.nan, rng.integers(0, 60, n))),),
    }
    fixed = {"transactions": ["txn_amount_usd", "last_txn_hour", "txn_count_7d"],
             "customer_profile": ["email_token"], "engagement": ["days_since_last_login"]}
    for group, folder in folders.items():
        patches = sorted((folder / "patches").glob("*.patch")) if (folder / "patches").is_dir() else []
        checkout = fresh_checkout(tmp_path / group)
        for p in patches:  # each on its own ...
            assert git_apply(checkout, p).returncode == 0, p
            subprocess.run(["git", "checkout", "-q", "."], cwd=checkout, check=True)
        if patches:  # ... and all of them together, in order
            applied = git_apply(checkout, *patches)
            assert applied.returncode == 0, applied.stderr
        compile_contracts(checkout / "contracts")
        assert buf(checkout, "lint").returncode == 0
        serving, batch = (_module(checkout / "demo/pipelines" / f) for f in ("serving.py", "batch.py"))
        for fn in fixed.get(group, []):
            pd.testing.assert_series_equal(getattr(serving, fn)(*inputs[fn]), getattr(batch, fn)(*inputs[fn]),
                                           check_names=False)
    plan = _plan(audited_demo, "customer_profile")
    contract_patch = next(a for a in plan["actions"] if a["type"] == "contract_update")
    assert contract_patch["contract_change"]["to_version"] == "2.2.0"


def test_patches_pass_drift_audit_contracts_check(folders, tmp_path):
    checkout = fresh_checkout(tmp_path / "repo")
    subprocess.run(["git", "config", "user.email", "t@example.com"], cwd=checkout, check=True)
    subprocess.run(["git", "config", "user.name", "t"], cwd=checkout, check=True)
    patch = next((folders["customer_profile"] / "patches").glob("*allowed_value_drift.patch"))
    assert git_apply(checkout, patch).returncode == 0
    subprocess.run(["git", "commit", "-qam", "accept platinum"], cwd=checkout, check=True)
    proc = subprocess.run([str(Path(sys.executable).parent / "drift-audit"), "contracts", "check", "--against",
                           "HEAD~1"], cwd=checkout, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_defect_gets_a_concrete_action(audited_demo):
    for group in audited_demo["config"].groups:
        plan = _plan(audited_demo, group)
        covered = {a["finding"] for a in plan["actions"]} | {r for a in plan["actions"] for r in a["related_findings"]}
        for f in plan["findings"]:
            if f["severity"] != "info":
                assert f["id"] in covered, f["id"]
        for a in plan["actions"]:
            assert a["canary"]["stages"] and a["canary"]["metrics"] and a["canary"]["abort_if"] and a["rollback"]
            assert set(a["owners"]) >= set(_contract(audited_demo, group)["owners"])
            assert a["approvals"][0]["role"] == "feature owner"
            if a["type"] in ("transformation_patch", "data_backfill", "feature_definition_patch"):
                cmds = a["commands"]
                assert cmds["dry_run"] and cmds["apply"] and cmds["verify"]
                assert any("materialize 2026-10-15T00:00:00 2026-10-22T00:00:00" in c for c in cmds["apply"])
                assert all("materialize" not in c for c in cmds["dry_run"])  # the dry run writes nothing


def test_approvals_follow_the_rules(audited_demo):
    tx = _plan(audited_demo, "transactions")
    for a in tx["actions"]:  # tier 1: the model lead of fraud_detector signs
        assert {"role": "model lead", "who": "fraud-ml-lead@example.com"}.items() <= \
            next(p for p in a["approvals"] if p["role"] == "model lead").items()
    cp = _plan(audited_demo, "customer_profile")
    email = next(a for a in cp["actions"] if a["finding"] == "customer_profile.email.pii_untokenized")
    assert "privacy review" in {p["role"] for p in email["approvals"]}
    assert email["escalation"]["requested_sla"]["acknowledge"].startswith("30 minutes")
    assert email["patch"] and email["function"] == "email_token"
    mr = _plan(audited_demo, "merchant_risk")
    (stale,) = [a for a in mr["actions"] if a["kind"] == "stale_online_values"]
    assert stale["type"] == "data_backfill" and stale["escalation"]["to"].startswith("feature platform")
    assert all("data governance" not in {p["role"] for p in a["approvals"]}
               for g in ("transactions", "customer_profile", "engagement", "merchant_risk")
               for a in _plan(audited_demo, g)["actions"] if not a["breaking"])


def test_root_causes_are_ranked_with_evidence(audited_demo):
    tx = _plan(audited_demo, "transactions")
    ranked = tx["root_causes"]
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert [r["confidence"] for r in ranked] == sorted((r["confidence"] for r in ranked), reverse=True)
    unit = next(r for r in ranked if r["root_cause"] == "transactions.txn_amount_usd.unit_mismatch")
    assert unit["evidence"]["factor"] == 100.0 and "transactions.txn_amount_usd.training_serving_skew" in unit["explains"]


def test_validation_matrix_lists_required_and_executed_checks(audited_demo, folders):
    injected = {(g, f) for g, f, _ in INJECTED}
    for group, folder in folders.items():
        m = json.loads((folder / "validation_matrix.json").read_text())
        plan = _plan(audited_demo, group)
        assert [c["action"] for c in m["changes"]] == [a["id"] for a in plan["actions"]]
        for change in m["changes"]:
            statuses = {c["check"]: c["status"] for c in change["checks"]}
            if change["patch"]:
                assert statuses["patch_applies"] == "pass"
            if change["type"] == "transformation_patch":
                assert statuses["unit_tests"] == "required" and statuses["shadow_deployment"] == "required"
            if change["type"] == "contract_update":
                assert statuses["contract_compiles"] == "pass" and statuses["buf_lint"] == "pass"
        drift_rows = [r for r in m["audit_checks"] if r["check"].startswith("distribution drift")]
        for r in drift_rows:
            if (group, r["feature"]) in set(CLEAN):
                assert r["status"] == "pass", r
        assert any(r["status"] == "fail" for r in m["audit_checks"]) == any(g == group for g, _ in injected)
        assert "## Checks this audit ran" in (folder / "validation_matrix.md").read_text()


def test_catalog_entries_carry_lineage_owners_and_status(audited_demo, folders):
    for group, folder in folders.items():
        entries = {e["feature"]: e for e in json.loads((folder / "catalog/entries.json").read_text())}
        contract = _contract(audited_demo, group)
        assert set(entries) == {f"{group}.{f['name']}" for f in contract["features"]}
        for e in entries.values():
            diagram = e["lineage_mermaid"]
            assert diagram.startswith("flowchart LR") and "offline source" in diagram and "feature view" in diagram
            assert "online store" in diagram and "training set" in diagram
            for model in e["consuming_models"]:
                assert f"model {model}" in diagram
            assert e["owners"] and e["last_audit"]["date"] == DAY
            md = (folder / "catalog" / f"{e['feature'].split('.', 1)[1]}.md").read_text()
            assert "```mermaid\nflowchart LR" in md
    for group, feature, _ in INJECTED:
        if feature != "*":
            entry = next(e for e in json.loads((folders[group] / "catalog/entries.json").read_text())
                         if e["feature"] == f"{group}.{feature}")
            assert entry["validation_status"] == "failing"
    for group, feature in CLEAN:
        if group != "merchant_risk":  # its whole group is stale online, so every feature there is failing
            entry = next(e for e in json.loads((folders[group] / "catalog/entries.json").read_text())
                         if e["feature"] == f"{group}.{feature}")
            assert entry["validation_status"] == "passing", entry
    assert "fraud_detector@v1" in next(e for e in json.loads((folders["transactions"] / "catalog/entries.json")
                                                              .read_text()))["consuming_models"]


def test_notification_and_tickets_are_filled_in(audited_demo, folders):
    note = (folders["customer_profile"] / "notification.md").read_text()
    assert "v2.1.0 → v2.2.0" in note and "platinum" in note
    for folder in folders.values():
        text = (folder / "notification.md").read_text()
        for part in ("## Expected downtime", "## Schema changes", "## Action items for consumers"):
            assert part in text
    for group, folder in folders.items():
        for a in _plan(audited_demo, group)["actions"]:
            ticket = (folder / "tickets" / f"{a['id']}-{'PR' if a['patch'] else 'TICKET'}.md").read_text()
            for p in a["approvals"]:
                assert p["who"] in ticket
            assert "## Rollout timeline" in ticket and "## Rollback" in ticket and "## Sign-off" in ticket
            if a["escalation"]:
                esc = (folder / "tickets" / f"{a['id']}-ESCALATION.md").read_text()
                assert "## Reproduction steps" in esc and "## Requested SLA" in esc
                for rel in ("findings.json", "report.md"):  # evidence artifacts, hashed as written
                    assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() in esc


def test_outputs_are_reproducible_and_hold_no_wall_clock_time(audited_demo, folders):
    cfg = audited_demo["config"]
    today = datetime.now(UTC).date().isoformat()
    for group, folder in folders.items():
        values = {name: _stored(cfg, name, group) for name in UPSTREAM}
        ctx = {"contract_snapshot": values["contract_snapshot"], "plan": values["remediation_plan"],
               "drift": values["drift_deltas"], "diff": values["contract_diff"], "quality": values["quality_gates"],
               "transformation": values["transformation_audit"],
               "provenance": sorted(input_hashes(**values).items())}
        rendered = report.render(cfg, PartitionWindow(parse_day(DAY), cfg.audit.reference_days), ctx)
        on_disk = _files(folder)
        assert set(rendered) == set(on_disk)
        for rel, content in rendered.items():
            assert (content if isinstance(content, bytes) else content.encode()) == on_disk[rel], rel
        if today != DAY:
            assert not any(today.encode() in data for data in on_disk.values())


def test_mlflow_run_per_partition_when_configured(audited_demo):
    from drift_audit.adapters.mlflow_registry import client, resolve_tracking_uri
    from drift_audit.config import ReportSettings

    cfg = audited_demo["config"].model_copy(update={"report": ReportSettings(mlflow_runs=True,
                                                                             mlflow_experiment="drift_audit_test")})
    group = "transactions"
    values = {name: _stored(cfg, name, group) for name in UPSTREAM}
    out = report.run(cfg, PartitionWindow(parse_day(DAY), cfg.audit.reference_days), {
        "contract_snapshot": values["contract_snapshot"], "plan": values["remediation_plan"],
        "drift": values["drift_deltas"], "diff": values["contract_diff"], "quality": values["quality_gates"],
        "transformation": values["transformation_audit"], "provenance": sorted(input_hashes(**values).items())})
    mc = client(resolve_tracking_uri(cfg.mlflow.tracking_uri, Path(cfg.base_dir)))
    run = mc.get_run(out["mlflow_run_id"])
    assert run.data.tags["drift_audit.partition"] == f"{DAY}|{group}"
    assert run.data.metrics["findings"] == len(values["remediation_plan"]["findings"])
    assert run.data.metrics["findings_critical"] == sum(f["severity"] == "critical"
                                                        for f in values["remediation_plan"]["findings"])
    artifacts = {a.path for a in mc.list_artifacts(run.info.run_id)}
    assert {"report.md", "report.html", "findings.json", "summary.md"} <= artifacts
    assert str(cfg.output_root) in run.info.artifact_uri
