"""Mechanical patches: the patched demo serving code computes what the batch code computes, and edited
contracts compile with protoc into the intended model."""

import shutil
import types

import numpy as np
import pandas as pd
import pytest

from drift_audit.adapters.protoc import compile_contracts
from drift_audit.core import patches
from drift_audit_tests.conftest import REPO

SERVING = (REPO / "demo/pipelines/serving.py").read_text()
BATCH = (REPO / "demo/pipelines/batch.py").read_text()
PROFILE = "features/customer_profile/v1/customer_profile.proto"


def _module(source: str) -> types.ModuleType:
    module = types.ModuleType("patched")
    exec(compile(source, "patched.py", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(7)
    n = 500
    return {
        "txn_amount_usd": (pd.Series(rng.integers(0, 500_000, n)),),
        "last_txn_hour": (pd.Series(pd.to_datetime(rng.integers(1.7e9, 1.8e9, n), unit="s", utc=True)),),
        "txn_count_7d": (pd.DataFrame(rng.poisson(3, (n, 10))),),
        "email_token": (pd.Series([f"user{i}@example.org" for i in range(n)]),),
        "days_since_last_login": (pd.Series(np.where(rng.uniform(size=n) < 0.2, np.nan, rng.integers(0, 90, n))),),
    }


@pytest.mark.parametrize(("function", "fix"), [
    ("txn_amount_usd", lambda src: patches.fix_scale(src, "txn_amount_usd", 100.0)),
    ("last_txn_hour", lambda src: patches.fix_timezone(src, "last_txn_hour", "UTC")),
    ("txn_count_7d", lambda src: patches.replace_function(src, BATCH, "txn_count_7d")),
    ("email_token", lambda src: patches.replace_function(src, BATCH, "email_token")),
    ("days_since_last_login", lambda src: patches.replace_function(src, BATCH, "days_since_last_login")),
])
def test_patched_serving_matches_batch(function, fix, inputs):
    before, batch = _module(SERVING), _module(BATCH)
    args = inputs[function]
    expected = getattr(batch, function)(*args)
    assert not getattr(before, function)(*args).equals(expected)  # the demo's defect is real
    fixed = fix(SERVING)
    assert fixed is not None
    pd.testing.assert_series_equal(getattr(_module(fixed), function)(*args), expected, check_names=False)


def test_replace_function_adds_only_the_imports_it_uses():
    window = patches.replace_function(SERVING, BATCH, "txn_count_7d")
    token = patches.replace_function(SERVING, BATCH, "email_token")
    assert window is not None and token is not None
    assert "import hashlib" not in window
    assert "import hashlib\nimport numpy as np\n" in token  # sorted into place


def test_function_for_finds_the_function_computing_a_feature():
    assert patches.function_for(SERVING, "last_txn_hour") == "last_txn_hour"
    assert patches.function_for(SERVING, "email") == "email_token"
    assert patches.function_for(SERVING, "credit_score") is None


def test_unified_diff_round_trips_through_git_apply(tmp_path):
    import os
    import subprocess

    (tmp_path / "demo/pipelines").mkdir(parents=True)
    target = tmp_path / "demo/pipelines/serving.py"
    target.write_text(SERVING)
    new = patches.fix_scale(SERVING, "txn_amount_usd", 100.0)
    (tmp_path / "p.patch").write_text(patches.unified("demo/pipelines/serving.py", SERVING, new))
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}
    subprocess.run(["git", "apply", "p.patch"], cwd=tmp_path, check=True, env=env)
    assert target.read_text() == new


@pytest.fixture()
def contracts(tmp_path):
    root = tmp_path / "contracts"
    shutil.copytree(REPO / "contracts", root)
    return root


def _profile(root):
    return next(c for c in compile_contracts(root).contracts if c.group == "customer_profile")


def test_contract_edits_compile_into_the_intended_model(contracts):
    path = contracts / PROFILE
    text = path.read_text()
    text = patches.set_feature_option(text, "tenure_days", "default_value", '"0"')  # block exists
    text = patches.set_feature_option(text, "loyalty_tier", "default_value", '"bronze"')  # no options yet
    text = patches.deprecate_field(text, "credit_score")
    text = patches.add_field_after(text, "credit_score", "credit_score_v3", "double", "replacement")
    text = patches.set_group_option(text, "deprecation_window", '"30d"')
    text, old, new = patches.bump_version(text, "minor")
    path.write_text(text)
    c = _profile(contracts)
    assert (old, new, c.version, c.deprecation_window) == ("2.1.0", "2.2.0", "2.2.0", "30d")
    assert c.feature("tenure_days").default_value == "0" and c.feature("loyalty_tier").default_value == "bronze"
    replacement = c.feature("credit_score_v3")
    assert replacement.type == "float64" and (replacement.min, replacement.max) == (300, 850)
    assert replacement.number == 10
    assert "deprecated = true" in text.split("credit_score_v3")[0]

    removed = patches.remove_field(text, "credit_score")
    path.write_text(removed)
    c = _profile(contracts)
    assert "credit_score" not in c.feature_names and "reserved 9;" in removed and 'reserved "credit_score";' in removed


def test_allowed_value_added_to_enum_and_to_a_list(contracts):
    path = contracts / PROFILE
    text = patches.add_allowed_value(path.read_text(), "loyalty_tier", "platinum",
                                     "features.customer_profile.v1.LoyaltyTier")
    text = patches.add_allowed_value(text, "country", "MX", None)
    path.write_text(text)
    c = _profile(contracts)
    assert "platinum" in c.feature("loyalty_tier").allowed_values
    assert "MX" in c.feature("country").allowed_values
