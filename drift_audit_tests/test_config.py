"""drift_audit.yaml validation: every problem names the file and the key; paths stay inside their roots."""

from pathlib import Path

import pytest

from drift_audit.config import load_config
from drift_audit.core.errors import ConfigError, UnknownFeatureGroupError
from drift_audit_tests.conftest import REPO

MINIMAL = """
feast: {repo_path: repo, project: p, registry: r.db}
mlflow: {tracking_uri: sqlite:///m.db}
groups:
  g:
    offline: {path: data/g}
    online: [{name: store, kind: feast}]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "drift_audit.yaml"
    path.write_text(text)
    return path


def test_repository_config_loads():
    cfg = load_config(REPO / "drift_audit.yaml")
    assert set(cfg.groups) == {"transactions", "customer_profile", "engagement", "merchant_risk"}
    assert cfg.path("contracts") == REPO / "contracts"


def test_minimal_config_gets_documented_defaults(tmp_path):
    cfg = load_config(_write(tmp_path, MINIMAL))
    assert (cfg.audit.reference_days, cfg.audit.bins, cfg.audit.quorum, cfg.spark.master) == (7, 10, 2, "local[*]")


@pytest.mark.parametrize(("text", "expected"), [
    (MINIMAL + "bogus: 1\n", "bogus: unknown key"),
    (MINIMAL.replace("kind: feast", "kind: kafka"), "groups.g.online.0.kind"),
    (MINIMAL.replace("feast: {repo_path: repo, project: p, registry: r.db}\n", ""), "feast: Field required"),
    (MINIMAL + "audit: {bins: 1}\n", "audit.bins"),
    (MINIMAL.replace("online: [{name: store, kind: feast}]", "online: [{name: log, kind: parquet}]"),
     "needs a 'path'"),
    (MINIMAL.replace("online: [{name: store, kind: feast}]",
                     "online: [{name: a, kind: feast}, {name: a, kind: feast}]"), "repeated: a"),
    ("groups: [\n", "not valid YAML"),
    ("- 1\n", "expected a mapping"),
])
def test_bad_config_names_file_and_key(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value) and str(path) in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.yaml")


def test_paths_cannot_escape_their_root(tmp_path):
    cfg = load_config(_write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match="outside the configured roots"):
        cfg.path("../elsewhere")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (tmp_path / "link").symlink_to(outside)
    with pytest.raises(ConfigError, match="outside the configured roots"):
        cfg.path("link/file.parquet")
    assert cfg.path("data/g") == (tmp_path / "data" / "g").resolve()


def test_allowed_roots_extend_where_paths_may_point(tmp_path):
    other = tmp_path / "shared"
    other.mkdir()
    sub = tmp_path / "conf"
    sub.mkdir()
    cfg = load_config(_write(sub, MINIMAL + "allowed_roots: [../shared]\n"))
    assert cfg.path("../shared/x") == (other / "x").resolve()


def test_unknown_feature_group_names_the_known_ones(tmp_path):
    cfg = load_config(_write(tmp_path, MINIMAL))
    with pytest.raises(UnknownFeatureGroupError, match=r"unknown feature group 'nope'.*declares g"):
        cfg.group("nope")


def test_secrets_come_from_the_environment(tmp_path, monkeypatch):
    text = MINIMAL.replace("feast: {", "feast: {online_store: {type: redis, connection_string: "
                           "'127.0.0.1:6379,password=${DA_TEST_REDIS_PASSWORD}'}, ")
    path = _write(tmp_path, text)
    monkeypatch.delenv("DA_TEST_REDIS_PASSWORD", raising=False)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: feast.online_store.connection_string: "
                              "environment variable DA_TEST_REDIS_PASSWORD is not set")
    monkeypatch.setenv("DA_TEST_REDIS_PASSWORD", "s3cret")
    assert load_config(path).feast.online_store.connection_string == "127.0.0.1:6379,password=s3cret"


def test_mlflow_tracking_uri_from_the_environment_overrides_the_file(tmp_path, monkeypatch):
    path = _write(tmp_path, MINIMAL)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert load_config(path).mlflow.tracking_uri == "sqlite:///m.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert load_config(path).mlflow.tracking_uri == "http://127.0.0.1:5000"
