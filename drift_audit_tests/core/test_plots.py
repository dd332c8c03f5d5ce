"""Plots are real PNGs of the summaries: titled with the feature, not blank, byte-reproducible."""

import io

import numpy as np
import pytest
from PIL import Image

from drift_audit.core import plots


def _numeric_row(side: str, shift: float) -> dict:
    rng = np.random.default_rng(3)
    ref = rng.normal(50, 10, 5000)
    cur = rng.normal(50 + shift, 10, 2000)
    edges = np.quantile(ref, np.linspace(0, 1, 11))
    edges[0], edges[-1] = min(ref.min(), cur.min()), max(ref.max(), cur.max())
    rc, _ = np.histogram(ref, edges)
    cc, _ = np.histogram(cur, edges)
    bins = [{"index": i, "lo": float(edges[i]), "hi": float(edges[i + 1]), "ref": int(rc[i]), "cur": int(cc[i])}
            for i in range(10)]
    return {"name": "amount", "side": side, "kind": "numeric", "bins": bins, "drifted": True}


def _categorical_row(side: str) -> dict:
    freq = [{"category": "a", "ref": 600, "cur": 300}, {"category": "b", "ref": 400, "cur": 500},
            {"category": "new", "ref": 0, "cur": 200}]
    return {"name": "tier", "side": side, "kind": "categorical", "frequencies": freq, "drifted": True}


@pytest.mark.parametrize(("rows", "exact"), [
    ([_numeric_row("online_store", 15), _numeric_row("serving_log", 15)], {}),
    ([_categorical_row("online_store")], {}),
    ([{**_numeric_row("online_store", 0), "name": "hour"}],
     {"hour|online_store": [[float(h), 100 + h, 100 + (h * 7) % 24] for h in range(24)]}),
])
def test_png_is_a_real_titled_plot(rows, exact):
    name = rows[0]["name"]
    png = plots.render("grp", name, rows, exact)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 800 and image.size[1] >= 300
    assert len(png) > 20_000
    assert f"grp.{name}" in image.info["Title"]
    colors = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colors is None or len(colors) > 50  # axes, text and several series, not a blank canvas
    assert plots.render("grp", name, rows, exact) == png  # deterministic bytes


def test_features_to_plot_skips_pii_and_undrifted():
    drift = {"features": [{"name": "a", "drifted": True}, {"name": "b", "drifted": False},
                          {"name": "email", "drifted": True}, {"name": "c", "drifted": False}]}
    findings = [{"feature": "c", "severity": "high"}, {"feature": "b", "severity": "info"}]
    assert plots.features_to_plot(drift, findings, {"email"}) == ["a", "c"]
