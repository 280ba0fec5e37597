"""Markdown tables of fields and labels, generated from ``schema/`` for the card and DATASHEET."""

from __future__ import annotations

from typing import Any

from .features import CONFIGS, features_for
from .schema import Schemas

__all__ = ["fields_table", "labels_tables", "generated_section", "splice_generated", "BEGIN", "END"]

BEGIN = "<!-- BEGIN GENERATED: fields and labels (khabar build regenerates this section from schema/) -->"
END = "<!-- END GENERATED -->"
VOCABS = ("EntityType", "StanceLabel", "StanceTarget", "Checkworthy", "Speech", "FlagKind")


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


def labels_tables(schemas: Schemas) -> str:
    """One table per vocabulary: ClassLabel id, name, English and Arabic label, crosswalks."""
    parts = []
    for vocab in VOCABS:
        info = schemas.vocab_info(vocab)
        cross = sorted({k for v in info.values() for k in v if k in ("ontonotes5", "ace2005")})
        head = ["id", "label", "English", "Arabic"] + cross + ["description"]
        lines = [f"**{vocab}** — {schemas.vocab_description(vocab)}", "", "| " + " | ".join(head) + " |",
                 "|" + "---|" * len(head)]
        for i, name in enumerate(schemas.vocab(vocab)):
            x = info.get(name, {})
            cells = [str(i), f"`{name}`", x.get("en", ""), x.get("ar", "")] + [str(x.get(c) or "—") for c in cross] + [x.get("description", "")]
            lines.append("| " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def generated_section(schemas: Schemas) -> str:
    return (f"{BEGIN}\n\n### Fields of the `documents` config\n\nOffsets are Unicode code points, half-open "
            f"`[start, end)`, into `text`.\n\n{fields_table(schemas)}\n\n### Labels\n\n{labels_tables(schemas)}\n\n{END}")


def splice_generated(markdown: str, schemas: Schemas) -> str:
    """Replace the generated section of a Markdown file (between BEGIN and END) with a fresh one.

    Raises:
        ValueError: the markers are missing or out of order.
    """
    b, e = markdown.find(BEGIN), markdown.find(END)
    if b < 0 or e < b:
        raise ValueError("generated-section markers missing")
    return markdown[:b] + generated_section(schemas) + markdown[e + len(END):]
