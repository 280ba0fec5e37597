"""Markdown tables of fields and labels, generated from ``schema/`` for the card and DATASHEET."""

from __future__ import annotations

from typing import Any

from khabar.dataset.features import CONFIGS, features_for
from khabar.core.schema import Schemas

__all__ = ["fields_table", "labels_tables", "config_labels", "generated_section", "splice_generated", "BEGIN", "END"]

BEGIN = "<!-- BEGIN GENERATED: this release, fields and labels (khabar build regenerates this section) -->"
END = "<!-- END GENERATED -->"


def _type_name(feature: Any) -> str:
    from datasets import ClassLabel, List, Value

    if isinstance(feature, ClassLabel):
        return f"ClassLabel({len(feature.names)})"
    if isinstance(feature, Value):
        return feature.dtype
    if isinstance(feature, List):
        return f"list<{_type_name(feature.feature)}>"
    if isinstance(feature, dict):
        return "struct{" + ", ".join(f"{k}: {_type_name(v)}" for k, v in feature.items()) + "}"
    return type(feature).__name__


def fields_table(schemas: Schemas, config: str = "documents") -> str:
    """One row per column of ``config``: name, feature type, description from the schema."""
    schema = schemas[CONFIGS[config]]
    feats = features_for(schemas, config)
    lines = ["| column | type | description |", "|---|---|---|"]
    for name, node in schema["properties"].items():
        desc = node.get("description", "")
        if not desc and "$ref" in node:
            desc = schemas.resolve(node["$ref"], schema["$id"]).get("description", "")
        if not desc and node.get("type") == "array" and "$ref" in node.get("items", {}):
            desc = schemas.resolve(node["items"]["$ref"], schema["$id"]).get("description", "")
        desc = desc.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{name}` | `{_type_name(feats[name])}` | {desc} |")
    return "\n".join(lines)


_EXTRA = {"favor": "FAVOR means", "against": "AGAINST means", "added_in": "added in"}


def labels_tables(schemas: Schemas) -> str:
    """One table per vocabulary: ClassLabel id, name, English and Arabic label, crosswalks, and for
    the stance targets (``schema/stance-targets.json``) what FAVOR and AGAINST mean and the release
    that added each."""
    parts = []
    for vocab in schemas.vocabularies("release/documents"):
        info = schemas.vocab_info(vocab)
        cross = sorted({k for v in info.values() for k in v if k in ("ontonotes5", "ace2005")})
        extra = [k for k in ("favor", "against", "added_in") if any(k in v for v in info.values())]
        head = ["id", "label", "English", "Arabic"] + cross + ["description"] + [_EXTRA[k] for k in extra]
        lines = [f"**{vocab}** — {schemas.vocab_description(vocab)}", "", "| " + " | ".join(head) + " |",
                 "|" + "---|" * len(head)]
        for i, name in enumerate(schemas.vocab(vocab)):
            x = info.get(name, {})
            cells = ([str(i), f"`{name}`", x.get("en", ""), x.get("ar", "")] + [str(x.get(c) or "—") for c in cross]
                     + [x.get("description", "")] + [str(x.get(k) or "—") for k in extra])
            lines.append("| " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


_LABELS = "urn:khabar:schema:labels#/$defs/"


def _vocab_paths(node: Any, path: str) -> list[tuple[str, str]]:
    """``(column path, vocabulary)`` of every label reference in a row schema node, in order."""
    if not isinstance(node, dict):
        return []
    ref = node.get("$ref", "")
    if ref.startswith(_LABELS):
        return [(path, ref[len(_LABELS):])]
    out = [x for key in ("oneOf", "anyOf") for sub in node.get(key, []) for x in _vocab_paths(sub, path)]
    out += _vocab_paths(node.get("items"), path)
    for k, v in (node.get("properties") or {}).items():
        out += _vocab_paths(v, f"{path}.{k}" if path else k)
    return out


def config_labels(schemas: Schemas, config: str) -> str:
    """The ClassLabel columns of ``config`` as Markdown list items, one per vocabulary of
    ``labels.schema.json``: the columns that use it and every ``id name`` pair."""
    groups: dict[str, list[str]] = {}
    for path, vocab in _vocab_paths(schemas[CONFIGS[config]], ""):
        groups.setdefault(vocab, []).append(path)
    return "\n".join(f"- {', '.join(f'`{p}`' for p in paths)}: ClassLabel of `{vocab}` ({len(schemas.vocab(vocab))} names): "
                     + ", ".join(f"{i} `{n}`" for i, n in enumerate(schemas.vocab(vocab))) for vocab, paths in groups.items())


def release_table(stats: dict[str, Any]) -> str:
    """Counts of one release (from the build's ``reports/stats.json``) as a Markdown table."""
    prov = stats["provenance"]
    rows = [("version", stats["version"]), ("documents", stats["documents"]),
            ("per split", ", ".join(f"{k} {v}" for k, v in stats["splits"].items())),
            ("with gold annotation", stats["annotated"]),
            ("entities / claims / stances", f"{stats['entities']} / {stats['claims']} / {stats['stances']}"),
            ("licence status", ", ".join(f"{k} {v}" for k, v in prov["license_status"].items())),
            ("machine-translated", f"{prov['machine_translated']} (from: " + (", ".join(f"{k} {v}" for k, v in prov["translated_from"].items()) or "—") + ")"),
            ("publisher / URL / date known", f"{prov['publisher_known']} / {prov['url_known']} / {prov['date_known']}"),
            ("flagged artifacts", ", ".join(f"{k} {v}" for k, v in stats["flag_kinds"].items()) or "none")]
    return "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def generated_section(schemas: Schemas, stats: dict[str, Any] | None = None) -> str:
    """The generated part of the card and the datasheet: this release's counts (when ``stats``
    is given), the fields of the ``documents`` config and every label set."""
    release = f"### This release\n\n{release_table(stats)}\n\n" if stats else ""
    return (f"{BEGIN}\n\n{release}### Fields of the `documents` config\n\nOffsets are Unicode code points, half-open "
            f"`[start, end)`, into `text`.\n\n{fields_table(schemas)}\n\n### Labels\n\n{labels_tables(schemas)}\n\n{END}")


def splice_generated(markdown: str, schemas: Schemas, stats: dict[str, Any] | None = None) -> str:
    """Replace the generated section of a Markdown file (between BEGIN and END) with a fresh one.

    Raises:
        ValueError: the markers are missing or out of order.
    """
    b, e = markdown.find(BEGIN), markdown.find(END)
    if b < 0 or e < b:
        raise ValueError("generated-section markers missing")
    return markdown[:b] + generated_section(schemas, stats) + markdown[e + len(END):]
