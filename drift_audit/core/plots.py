"""One PNG per drifted feature: reference vs current, drawn from the summaries drift_deltas keeps.

Numeric features: a density histogram over the reference's quantile bins (or the exact value table when
one was kept) and the ECDF at the bin edges. Categorical features: bars of the category shares. PII
features are never drawn (their categories would be raw values). Agg backend, no timestamps in the PNG:
the same summaries give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

REFERENCE = "reference (offline)"
COLORS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b")
MAX_CATEGORIES = 20


def features_to_plot(drift: Mapping[str, Any], findings: Iterable[Mapping[str, Any]], pii: set[str]) -> list[str]:
    """Features drifted on some source, or carrying a finding, that have summaries and are not PII."""
    flagged = {f["feature"] for f in findings if f["severity"] != "info"}
    rows = drift.get("features", [])
    names = {r["name"] for r in rows if r.get("drifted") or r["name"] in flagged}
    return sorted(n for n in names if n not in pii)


def render(group: str, feature: str, rows: Sequence[Mapping[str, Any]],
           exact: Mapping[str, Sequence[Sequence[float]]]) -> bytes:
    """PNG bytes of `feature`'s reference vs current distribution, one current line per online source."""
    rows = sorted(rows, key=lambda r: r["side"])
    kind = rows[0]["kind"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=90)
    try:
        if kind == "numeric":
            _numeric(axes, rows, exact)
        else:
            _categorical(axes, rows)
        title = f"{group}.{feature}: reference vs current ({', '.join(r['side'] for r in rows)})"
        fig.suptitle(title, fontsize=12)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None, "Title": title})
        return buf.getvalue()
    finally:
        plt.close(fig)


def _numeric(axes: Any, rows: Sequence[Mapping[str, Any]], exact: Mapping[str, Sequence[Sequence[float]]]) -> None:
    hist, ecdf = axes
    table = exact.get(f"{rows[0]['name']}|{rows[0]['side']}")
    if table:
        values = [v for v, _, _ in table]
        ref = [r for _, r, _ in table]
        hist.bar(values, _share(ref), width=0.8, alpha=0.45, color="#1f77b4", label=REFERENCE)
        ecdf.step(values, _cumulative(ref), where="post", color="#1f77b4", label=REFERENCE)
        for row, color in zip(rows, COLORS, strict=False):
            cur_table = exact.get(f"{row['name']}|{row['side']}") or table
            cur = [c for _, _, c in cur_table]
            xs = [v for v, _, _ in cur_table]
            hist.step(xs, _share(cur), where="mid", color=color, label=f"current: {row['side']}")
            ecdf.step(xs, _cumulative(cur), where="post", color=color, label=f"current: {row['side']}")
        hist.set_ylabel("share of rows")
    else:
        bins = rows[0]["bins"]
        edges = [b["lo"] for b in bins] + [bins[-1]["hi"]]
        xs = list(range(len(bins)))
        hist.bar(xs, _share([b["ref"] for b in bins]), width=0.8, alpha=0.45, color="#1f77b4", label=REFERENCE)
        ecdf.plot(edges, [0.0, *_cumulative([b["ref"] for b in bins])], marker="o", color="#1f77b4", label=REFERENCE)
        for row, color in zip(rows, COLORS, strict=False):
            cur = [b["cur"] for b in row["bins"]]
            hist.step(xs, _share(cur), where="mid", color=color, linewidth=2, label=f"current: {row['side']}")
            ecdf.plot(edges, [0.0, *_cumulative(cur)], marker="o", color=color, label=f"current: {row['side']}")
        hist.set_xticks(xs, [f"{b['lo']:.4g}–{b['hi']:.4g}" for b in bins], rotation=35, ha="right", fontsize=7)
        hist.set_ylabel("share of rows")
        if edges[0] > 0 and edges[-1] / edges[0] > 100:
            ecdf.set_xscale("log")
    hist.set_title("share per reference quantile bin" if not table else "share per value (exact)")
    ecdf.set_title("ECDF")
    ecdf.set_ylabel("cumulative share")
    ecdf.set_ylim(0, 1.02)
    hist.set_xlabel(rows[0]["name"] + ("" if table else " (bin)"))
    ecdf.set_xlabel(rows[0]["name"])
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)


def _categorical(axes: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    bars, delta = axes
    freq = rows[0].get("frequencies") or []
    cats = [f["category"] for f in freq][:MAX_CATEGORIES]
    ref_total = sum(f["ref"] for f in freq) or 1
    width = 0.8 / (len(rows) + 1)
    xs = list(range(len(cats)))
    ref = {f["category"]: f["ref"] / ref_total for f in freq}
    bars.bar([x - 0.4 + width / 2 for x in xs], [ref.get(c, 0.0) for c in cats], width=width, color="#1f77b4",
             label=REFERENCE)
    for i, (row, color) in enumerate(zip(rows, COLORS, strict=False), 1):
        fr = row.get("frequencies") or []
        total = sum(f["cur"] for f in fr) or 1
        cur = {f["category"]: f["cur"] / total for f in fr}
        bars.bar([x - 0.4 + width * (i + 0.5) for x in xs], [cur.get(c, 0.0) for c in cats], width=width,
                 color=color, label=f"current: {row['side']}")
        delta.bar([x - 0.4 + width * (i + 0.5) for x in xs], [cur.get(c, 0.0) - ref.get(c, 0.0) for c in cats],
                  width=width, color=color, label=f"current: {row['side']}")
    bars.set_title("category shares")
    bars.set_ylabel("share of rows")
    delta.set_title("current − reference share")
    delta.axhline(0, color="black", linewidth=0.8)
    for ax in axes:
        ax.set_xticks(xs, cats, rotation=30, ha="right", fontsize=8)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, axis="y")


def _share(counts: Sequence[float]) -> list[float]:
    total = sum(counts) or 1
    return [c / total for c in counts]


def _cumulative(counts: Sequence[float]) -> list[float]:
    out, acc, total = [], 0.0, sum(counts) or 1
    for c in counts:
        acc += c
        out.append(acc / total)
    return out
