"""PNG pictures of what a release holds, for people who would rather look than read tables:
entity types per split for each nesting layer (outer, nested), stance labels per split, and the
length of the documents per split. Drawn with matplotlib's Agg canvas; the bytes are
deterministic (:func:`khabar.agreement.plots.png_bytes`), so a release rebuilds byte for byte.

Public API: :class:`Distribution`, :func:`write_distribution_plots`, :func:`distribution_markdown`.
"""

from __future__ import annotations

from array import array
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from khabar.agreement.plots import png_bytes
from khabar.core.jsonio import atomic_write_bytes
from khabar.dataset.layout import LABEL_PLOT, LENGTH_PLOT, REPORTS
from khabar.dataset.rows import SPLITS
from khabar.text.bio import entity_depths

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Distribution", "write_distribution_plots", "distribution_markdown"]

_COLORS = {"train": "#1f77b4", "validation": "#ff7f0e", "test": "#2ca02c"}


class Distribution:
    """What the two pictures show, counted one ``documents`` row at a time (memory: one integer
    per document for the lengths, whatever the entities): per split, the entity types of the outer
    layer and of the nested layers (depth 2 and more), the stance labels, and the length of each
    ``text`` in code points. Counts of two parts of a corpus add up with :meth:`merge`."""

    PANELS = ("entities, outer layer", "entities, nested (depth 2 and more)", "stance labels")

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, Counter]] = {p: {s: Counter() for s in SPLITS} for p in self.PANELS}
        self.lengths: dict[str, array] = {s: array("q") for s in SPLITS}

    def add(self, split: str, row: dict[str, Any]) -> None:
        """Count one ``documents`` row (labels as names) of ``split``."""
        outer, nested, stances = (self.counts[p][split] for p in self.PANELS)
        for ent, depth in zip(row["entities"], entity_depths(row["entities"])):
            (outer if depth == 1 else nested)[ent["type"]] += 1
        stances.update(s["label"] for s in row["stances"])
        self.lengths[split].append(len(row["text"]))

    def merge(self, other: "Distribution") -> None:
        """Add the counts of ``other`` (a later part of the corpus)."""
        for panel, by_split in other.counts.items():
            for split, counter in by_split.items():
                self.counts[panel][split].update(counter)
        for split, lengths in other.lengths.items():
            self.lengths[split].extend(lengths)


def _label_figure(dist: Distribution, types: list[str], stance_labels: list[str]) -> "Figure":
    from matplotlib.figure import Figure

    panels = dist.counts
    fig = Figure(figsize=(max(8.0, 0.45 * len(types) + 3), 10.5))
    for k, (title, by_split) in enumerate(panels.items()):
        labels = stance_labels if title == "stance labels" else types
        ax = fig.add_subplot(3, 1, k + 1)
        width = 0.8 / len(SPLITS)
        for j, split in enumerate(SPLITS):
            xs = [i + (j - 1) * width for i in range(len(labels))]
            ax.bar(xs, [by_split[split][lab] for lab in labels], width, label=f"{split} ({sum(by_split[split].values())})",
                   color=_COLORS[split])
        ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center",
                      fontsize=8)
        ax.set_ylabel("count")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle("What the release holds, per split")
    fig.tight_layout()
    return fig


def _length_figure(dist: Distribution) -> "Figure":
    from matplotlib.figure import Figure

    lengths = {split: list(dist.lengths[split]) for split in SPLITS}
    longest = max([n for v in lengths.values() for n in v] or [1])
    step = max(250, -(-longest // 20 // 250) * 250)
    bins = list(range(0, longest + step, step))
    fig = Figure(figsize=(8.0, 4.2))
    ax = fig.add_subplot()
    ax.hist([lengths[s] for s in SPLITS], bins=bins, stacked=True, color=[_COLORS[s] for s in SPLITS],
            label=[f"{s} ({len(lengths[s])} documents)" for s in SPLITS])
    ax.set_xlabel("document length (Unicode code points)")
    ax.set_ylabel("documents")
    ax.set_title("Document lengths per split")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_distribution_plots(dist: Distribution, staging: Path, types: list[str], stance_labels: list[str]) -> None:
    """Write ``reports/label-distribution.png`` and ``reports/document-lengths.png`` of the
    counted ``documents`` rows into ``staging``.

    Args:
        types: the entity types in schema order; stance_labels: the stance labels in schema order.
    """
    atomic_write_bytes(staging / REPORTS / LABEL_PLOT, png_bytes(_label_figure(dist, types, stance_labels)))
    atomic_write_bytes(staging / REPORTS / LENGTH_PLOT, png_bytes(_length_figure(dist)))


def distribution_markdown() -> str:
    """The card section that shows the two pictures."""
    return ("## What the release holds, in pictures\n\n"
            "Entity types per split for the outer and the nested layer, and stance labels per split "
            f"(`reports/{LABEL_PLOT}`); document lengths per split (`reports/{LENGTH_PLOT}`). The tables above give the "
            "exact counts.\n\n"
            f"![Labels per split and layer](reports/{LABEL_PLOT})\n\n![Document lengths per split](reports/{LENGTH_PLOT})\n")
