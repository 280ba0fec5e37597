"""PNG plots of an agreement report (:func:`khabar.agreement.compare.corpus_agreement`), drawn with
matplotlib's Agg canvas (no display, no pyplot state).

The bytes are deterministic: the PNG ``Software`` text chunk (matplotlib's version) is dropped
and nothing else carries a time or a version, so the same report gives the same file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from khabar.core.jsonio import atomic_write_bytes

__all__ = ["write_plots", "png_bytes", "F1_PLOT", "CONFUSION_PLOT"]

F1_PLOT = "agreement-entity-f1.png"
CONFUSION_PLOT = "agreement-entity-confusion.png"
_NOTHING = "no document has two or more annotators:\nnothing to compare"


def png_bytes(fig: Figure) -> bytes:
    """The PNG of ``fig`` at 100 dpi, without the ``Software`` chunk (deterministic bytes)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _empty(fig: Figure, title: str) -> None:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, _NOTHING, ha="center", va="center")


def _f1_figure(report: dict[str, Any]) -> Figure:
    """Per-type exact and partial span F1 (pooled), with the overall figures first."""
    ent = report["entities"]
    groups = [("all types", ent["overall"]["exact"]["f1"], ent["overall"]["partial"]["f1"])]
    groups += [(t, f["exact"]["f1"], f["partial"]["f1"]) for t, f in ent["per_type"].items()]
    fig = Figure(figsize=(max(6.0, 0.7 * len(groups) + 2), 4.2))
    title = "Entity agreement: span F1 between annotators (nervaluate, pooled)"
    if not report["documents"]["compared"]:
        _empty(fig, title)
        return fig
    ax = fig.add_subplot()
    width = 0.38
    for k, (name, color) in enumerate((("exact span", "#1f77b4"), ("partial (overlap, half credit)", "#ff7f0e"))):
        xs = [i + (k - 0.5) * width for i in range(len(groups))]
        vals = [g[1 + k] for g in groups]
        ax.bar([x for x, v in zip(xs, vals) if v is not None], [v for v in vals if v is not None], width, label=name, color=color)
        for x, v in zip(xs, vals):
            ax.text(x, (v or 0) + 0.01, "n/a" if v is None else f"{v:.2f}", ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_xticks(range(len(groups)), [g[0] for g in groups], rotation=45, ha="right")
    ax.set_ylim(0, 1.32)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("F1")
    ax.set_title(title)
    ax.legend(loc="upper right", ncol=2, fontsize=8)
    fig.tight_layout()
    return fig


def _confusion_figure(report: dict[str, Any]) -> Figure:
    """Type confusion over same-span mentions (rows: first annotator of each pair)."""
    conf = report["entities"]["confusion"]
    labels, matrix = conf["labels"], conf["matrix"]
    size = max(4.5, 0.55 * len(labels) + 2.5)
    fig = Figure(figsize=(size, size))
    title = "Entity types given to the same span"
    if not report["documents"]["compared"] or not labels:
        _empty(fig, title)
        return fig
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap="Blues", interpolation="nearest")
    top = max(max(r) for r in matrix) or 1
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            ax.text(j, i, str(n), ha="center", va="center", fontsize=8, color="white" if n > top / 2 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("second annotator of the pair")
    ax.set_ylabel("first annotator of the pair")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def write_plots(report: dict[str, Any], folder: Path) -> list[Path]:
    """Write :data:`F1_PLOT` and :data:`CONFUSION_PLOT` into ``folder`` (created if missing), each
    atomically; a report with nothing compared gives plots that say so. Returns the two paths."""
    folder = Path(folder)
    out = []
    for name, make in ((F1_PLOT, _f1_figure), (CONFUSION_PLOT, _confusion_figure)):
        atomic_write_bytes(folder / name, png_bytes(make(report)))
        out.append(folder / name)
    return out
