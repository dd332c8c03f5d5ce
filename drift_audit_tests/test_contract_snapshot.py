"""contract_snapshot pins the compiled contract by content hash and Git commit; a dirty tree is recorded."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from drift_audit.config import load_config
from drift_audit.core.errors import UnknownFeatureGroupError
from drift_audit.stages import contracts
from drift_audit_tests.contract_repo import ContractRepo


@pytest.fixture()
def setup(tmp_path: Path):
    repo = ContractRepo(tmp_path)
    config = tmp_path / "drift_audit.yaml"
    config.write_text("""
contracts: {root: registry/contracts}
feast: {repo_path: ., project: p, registry: registry.db}
mlflow: {tracking_uri: "sqlite:///mlflow.db"}
groups: {customer_profile: {offline: {path: data}, online: [{name: online_store, kind: feast}]}}
""")
    return repo, load_config(config)


def test_clean_tree_is_pinned_by_commit_and_hashes(setup):
    repo, cfg = setup
    snap = contracts.snapshot(cfg, "customer_profile")
    head = repo.git("rev-parse", "HEAD").strip()
    tree = repo.git("rev-parse", "HEAD:contracts").strip()
    assert snap["git"] == {"commit": head, "tree": tree, "dirty": False, "dirty_sha256": None}
    raw = base64.b64decode(snap["descriptor_set_b64"])
    assert snap["descriptor_set_sha256"] == hashlib.sha256(raw.hex().encode()).hexdigest()
    names = [f.name for f in descriptor_pb2.FileDescriptorSet.FromString(raw).file]
    assert "features/customer_profile/v1/customer_profile.proto" in names
    assert contracts.snapshot(cfg, "customer_profile") == snap  # deterministic
    assert contracts.contract_of(snap).version == "2.1.0"


def test_dirty_tree_is_recorded_with_the_hash_of_the_uncommitted_content(setup):
    repo, cfg = setup
    clean = contracts.snapshot(cfg, "customer_profile")
    repo.edit('version: "2.1.0"', 'version: "2.2.0"')
    dirty = contracts.snapshot(cfg, "customer_profile")
    assert dirty["git"]["commit"] == clean["git"]["commit"] and dirty["git"]["dirty"] is True
    diff = repo.git("diff", "HEAD", "--binary", "--", "contracts")
    assert dirty["git"]["dirty_sha256"] == hashlib.sha256(diff.encode()).hexdigest()
    assert dirty["contract"]["version"] == "2.2.0" and dirty["contract_sha256"] != clean["contract_sha256"]
    (repo.root / "notes.proto").write_text('syntax = "proto3";\npackage notes.v1;\n')
    untracked = contracts.snapshot(cfg, "customer_profile")
    assert untracked["git"]["dirty_sha256"] not in (None, dirty["git"]["dirty_sha256"])
    (repo.root / "notes.proto").unlink()
    repo.edit('version: "2.2.0"', 'version: "2.1.0"')
    assert contracts.snapshot(cfg, "customer_profile") == clean


def test_unknown_group_names_the_groups_found(setup):
    _, cfg = setup
    with pytest.raises(UnknownFeatureGroupError, match=r"feature group 'orders' \(found: customer_profile\)"):
        contracts.snapshot(cfg, "orders")


def test_remote_registry_snapshot_pins_its_head(setup, tmp_path):
    repo, _ = setup
    config = tmp_path / "remote.yaml"
    config.write_text((tmp_path / "drift_audit.yaml").read_text().replace(
        "contracts: {root: registry/contracts}", f"contracts: {{root: contracts, git_repo: '{repo.path}'}}"))
    repo.edit('version: "2.1.0"', 'version: "2.2.0"')  # uncommitted: not in the registry
    snap = contracts.snapshot(load_config(config), "customer_profile")
    assert snap["git"] == {"commit": repo.git("rev-parse", "HEAD").strip(),
                           "tree": repo.git("rev-parse", "HEAD:contracts").strip(), "dirty": False,
                           "dirty_sha256": None}
    assert snap["contract"]["version"] == "2.1.0"
    repo.commit("minor")
    assert contracts.snapshot(load_config(config), "customer_profile")["contract"]["version"] == "2.2.0"
