"""Khabar annotation -> Label Studio results (the push direction).

Entities, claims and stances of an annotation file become the regions, per-region choices and
relations of :mod:`khabar.studio.config`'s labeling config, which Label Studio shows as a
prediction or an annotation. Offsets are Unicode code points, half-open ``[start, end)`` into the
document's ``text`` (UTF-16 code units on request, for tests of older readers).

Public API: :func:`annotation_to_results`, :func:`scheme_label`.
"""

from __future__ import annotations

from typing import Any

from khabar.core.errors import InputError
from khabar.studio.config import Scheme
from khabar.studio.offsets import Utf16Index

__all__ = ["annotation_to_results", "scheme_label"]


def _region(rid: str, tag: str, text: str, start: int, end: int, label: str, to_name: str) -> dict[str, Any]:
    """A ``labels`` result over ``text[start:end]`` (code points)."""
    return {"id": rid, "from_name": tag, "to_name": to_name, "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def _choice(region: dict[str, Any], tag: str, value: str) -> dict[str, Any]:
    """A per-region ``choices`` result on ``region`` (same id and offsets)."""
    v = region["value"]
    return {"id": region["id"], "from_name": tag, "to_name": region["to_name"], "type": "choices",
            "value": {"start": v["start"], "end": v["end"], "text": v["text"], "choices": [value]}}


def _relation(a: str, b: str, label: str) -> dict[str, Any]:
    """A ``relation`` result from region ``a`` to region ``b``."""
    return {"from_id": a, "to_id": b, "type": "relation", "direction": "right", "labels": [label]}


def annotation_to_results(ann: dict[str, Any], text: str, scheme: Scheme, *, utf16: bool = False) -> list[dict[str, Any]]:
    """Label Studio results for an annotation file's entities, claims and stances.

    Args:
        ann: an annotation (``schema/annotation.schema.json``), already checked against ``text``.
        text: the document text.
        scheme: :meth:`Scheme.from_schemas` of the project.
        utf16: write offsets as UTF-16 code units instead of code points (see
            :mod:`khabar.studio.offsets`); ``value.text`` is the same either way.

    Returns:
        Results in a fixed order: entity regions, then per claim its content region, its
        choices, its cue region and relations, then per stance its region, choice and relations.
        Region ids are the item ids; a cue region's id is ``<claim id>-cue``.

    Raises:
        InputError: a reporting chain deeper than the config offers (:attr:`Scheme.max_via`, the
            schema's ``maxItems``), or an id clash with a cue id.
    """
    ix = Utf16Index(text) if utf16 else None

    def off(n: int) -> int:
        return ix.to_utf16(n) if ix else n

    tn = scheme.text_name
    ent_tag = next(iter(sorted(scheme.entity_tags)))
    att_tag = next(iter(sorted(scheme.attribution_tags)))
    st_tag = next(iter(sorted(scheme.stance_tags)))
    entities = {e["id"]: e for e in ann["entities"]}
    ids = set(entities) | {c["id"] for c in ann["claims"]} | {s["id"] for s in ann["stances"]}
    limit = scheme.max_via
    out: list[dict[str, Any]] = []

    def region(rid: str, tag: str, start: int, end: int, label: str) -> dict[str, Any]:
        r = _region(rid, tag, text, start, end, label, tn)
        r["value"]["start"], r["value"]["end"] = off(start), off(end)
        return r

    for e in ann["entities"]:
        out.append(region(e["id"], ent_tag, e["start"], e["end"], scheme_label(scheme, e["type"])))
    for c in ann["claims"]:
        if len(c["via"]) > limit:
            raise InputError(f"claim {c['id']}: a reporting chain of {len(c['via'])} entities; the labeling config offers via-1 … via-{limit}")
        content = region(c["id"], att_tag, c["content"]["start"], c["content"]["end"], scheme.content_label)
        out.append(content)
        for fname in ("checkworthy", "speech"):
            if c[fname] is not None:
                out.append(_choice(content, scheme.choice_tag(fname), c[fname]))
        if c["cue"] is not None:
            cid = f"{c['id']}-cue"
            if cid in ids:
                raise InputError(f"claim {c['id']}: its cue region would take the id {cid!r}, which an item already has")
            out.append(region(cid, att_tag, c["cue"]["start"], c["cue"]["end"], scheme.cue_label))
            out.append(_relation(c["id"], cid, scheme.relation_label("cue")))
        if c["source"] is not None:
            out.append(_relation(c["id"], c["source"], scheme.relation_label("source")))
        for k, v in enumerate(c["via"], 1):
            out.append(_relation(c["id"], v, scheme.relation_label(f"via-{k}")))
    for s in ann["stances"]:
        h = entities[s["holder"]]
        reg = region(s["id"], st_tag, h["start"], h["end"], s["target"])
        out.append(reg)
        out.append(_choice(reg, scheme.choice_tag("stance_label"), s["label"]))
        out.append(_relation(s["id"], s["holder"], scheme.relation_label("holder")))
        for ev in s["evidence"]:
            out.append(_relation(s["id"], ev, scheme.relation_label("evidence")))
    return out


def scheme_label(scheme: Scheme, etype: str) -> str:
    """The entity label value in the config for schema type ``etype`` (a Wojood type).

    Raises:
        KeyError: the scheme has no label for ``etype``.
    """
    for label, t in scheme.entity_types.items():
        if t == etype:
            return label
    raise KeyError(etype)
