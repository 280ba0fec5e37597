"""Conversions between Khabar annotations and Label Studio results.

A Label Studio annotation (or prediction) is a list of *results*: regions (``type: labels``,
with ``value.start``/``end``/``text``/``labels``), per-region choices (``type: choices`` with the
region's id) and relations (``type: relation`` with ``from_id``, ``to_id``, ``direction`` and
``labels``). See https://labelstud.io/guide/export#Label-Studio-JSON-format-of-annotated-tasks and
:mod:`khabar.studio.config` for which tag holds which schema field.

* :func:`annotation_to_results` — entities, claims and stances -> results (push);
* :func:`results_to_annotation` — results -> entities, claims and stances (pull), verifying
  every span against the task's text (:mod:`khabar.studio.offsets`) and every reference.

Offsets are Unicode code points, half-open ``[start, end)`` into the document's ``text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from khabar.core.errors import InputError
from .config import MAX_VIA, Scheme
from .offsets import Utf16Index, resolve_span

__all__ = ["annotation_to_results", "results_to_annotation", "parse_results", "Region", "Relation", "Parsed",
           "ConversionError"]

_ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class ConversionError(InputError):
    """Label Studio results that cannot become a schema annotation. ``problems`` lists every
    reason, each naming the task, annotation and region (or relation)."""

    def __init__(self, problems: list[str], hint: str | None = None):
        super().__init__("\n".join(problems), hint=hint)
        self.problems = problems


# ---------------------------------------------------------------------------- push direction

def _region(rid: str, tag: str, text: str, start: int, end: int, label: str, to_name: str) -> dict[str, Any]:
    return {"id": rid, "from_name": tag, "to_name": to_name, "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def _choice(region: dict[str, Any], tag: str, value: str) -> dict[str, Any]:
    v = region["value"]
    return {"id": region["id"], "from_name": tag, "to_name": region["to_name"], "type": "choices",
            "value": {"start": v["start"], "end": v["end"], "text": v["text"], "choices": [value]}}


def _relation(a: str, b: str, label: str) -> dict[str, Any]:
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
        InputError: a reporting chain deeper than :data:`MAX_VIA`, or an id clash with a cue id.
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
    out: list[dict[str, Any]] = []

    def region(rid: str, tag: str, start: int, end: int, label: str) -> dict[str, Any]:
        r = _region(rid, tag, text, start, end, label, tn)
        r["value"]["start"], r["value"]["end"] = off(start), off(end)
        return r

    for e in ann["entities"]:
        out.append(region(e["id"], ent_tag, e["start"], e["end"], scheme_label(scheme, e["type"])))
    for c in ann["claims"]:
        if len(c["via"]) > MAX_VIA:
            raise InputError(f"claim {c['id']}: a reporting chain of {len(c['via'])} entities; the labeling config offers via-1 … via-{MAX_VIA}")
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


# ---------------------------------------------------------------------------- pull direction

@dataclass
class Region:
    """A labelled span: ``kind`` is ``entity``, ``content``, ``cue`` or ``stance``; ``label`` is the
    label value as in the config; ``start``/``end`` are code points; ``unit`` tells which offset
    unit the result used; ``choices`` maps a Choices tag name to its values."""

    id: str
    kind: str
    label: str
    start: int
    end: int
    text: str
    unit: str
    choices: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Relation:
    """A relation as drawn: ``from_id``, ``to_id``, ``direction`` (``right``, ``left``, ``bi``) and
    its labels."""

    from_id: str
    to_id: str
    direction: str
    labels: list[str]


@dataclass
class Parsed:
    """The regions (in result order, by id), relations and warnings of one annotation."""

    regions: dict[str, Region]
    relations: list[Relation]
    warnings: list[str]


def _is_json_min(item: Any) -> bool:
    return isinstance(item, dict) and "result" not in item and "value" not in item and (
        "annotation_id" in item or "annotator" in item)


def _classify(scheme: Scheme, tag: str, label: str) -> str | None:
    if tag in scheme.entity_tags and label in scheme.entity_types:
        return "entity"
    if tag in scheme.attribution_tags and label in (scheme.content_label, scheme.cue_label):
        return "content" if label == scheme.content_label else "cue"
    if tag in scheme.stance_tags and label in scheme.stance_targets:
        return "stance"
    return None


def _accepts(scheme: Scheme, tag: str) -> str:
    out = []
    if tag in scheme.entity_tags:
        out.append("an entity type of the schema")
    if tag in scheme.attribution_tags:
        out.append(f"{scheme.content_label!r} or {scheme.cue_label!r}")
    if tag in scheme.stance_tags:
        out.append("a stance target of the schema")
    return " or ".join(out)


def parse_results(result: Any, text: str, scheme: Scheme, where: str) -> Parsed:
    """Read one annotation's ``result`` list into regions, per-region choices and relations.

    Args:
        result: the ``result`` list of a Label Studio annotation or prediction.
        text: the task's text.
        scheme: which tags and labels mean what.
        where: ``"task 12, annotation 7"`` — prefixed to every problem.

    Returns:
        :class:`Parsed`; spans in code points. A region stored in UTF-16 units (case 01) is
        converted, with a warning naming it.

    Raises:
        ConversionError: every problem at once: a result of an unknown control or type, an unknown
            label, offsets that match the text under neither unit (or both), a choice that joins no
            region, a relation to a missing region, a region labelled by two tags.
    """
    problems: list[str] = []
    warnings: list[str] = []
    if not isinstance(result, list):
        raise ConversionError([f"{where}: result is {type(result).__name__}, not a list"])
    ix = Utf16Index(text)
    regions: dict[str, Region] = {}
    pending_choices: list[tuple[str, dict[str, Any], str]] = []
    relations: list[Relation] = []
    label_tags = scheme.entity_tags | scheme.attribution_tags | scheme.stance_tags
    for n, r in enumerate(result):
        if not isinstance(r, dict):
            problems.append(f"{where}, result[{n}]: not an object")
            continue
        rid = r.get("id")
        here = f"{where}, region {rid}" if rid is not None else f"{where}, result[{n}]"
        kind = r.get("type")
        if kind == "relation":
            a, b = r.get("from_id"), r.get("to_id")
            labels = r.get("labels") if r.get("labels") is not None else []
            if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
                problems.append(f"{where}, relation {a}->{b}: labels must be a list of strings, got {labels!r:.80}")
                continue
            direction = r.get("direction", "right")
            if direction not in ("right", "left", "bi"):
                problems.append(f"{where}, relation {a}->{b}: direction {direction!r} is not right, left or bi")
                continue
            relations.append(Relation(str(a), str(b), direction, list(labels)))
            continue
        name = r.get("from_name")
        if not isinstance(name, str) or not isinstance(kind, str):
            problems.append(f"{here}: from_name and type must be strings, got {name!r:.40} and {kind!r:.40}")
            continue
        value = r.get("value") if isinstance(r.get("value"), dict) else None
        if value is None:
            problems.append(f"{here}: result has no value object")
            continue
        if kind == "labels" and name in label_tags:
            labels = value.get("labels")
            if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
                problems.append(f"{here}: {name} region must carry exactly one label, got {labels!r}")
                continue
            label = labels[0]
            rkind = _classify(scheme, name, label)
            if rkind is None:
                problems.append(f"{here}: label-unknown: {label!r} is not {_accepts(scheme, name)}")
                continue
            if not isinstance(rid, str) or not rid:
                problems.append(f"{here}: a region's id must be a non-empty string, got {rid!r:.40}")
                continue
            span = resolve_span(ix, value.get("start"), value.get("end"), value.get("text"))
            if span.error:
                problems.append(f"{here}: {span.error}")
                continue
            if span.unit == "utf-16":
                warnings.append(f"{here}: offsets [{value['start']}, {value['end']}) were UTF-16 code units; "
                                f"read as code points [{span.start}, {span.end})")
            if rid in regions:
                problems.append(f"{here}: the region is labelled twice ({regions[rid].kind} {regions[rid].label!r} and {rkind} {label!r})")
                continue
            assert span.start is not None and span.end is not None
            regions[rid] = Region(rid, rkind, label, span.start, span.end, text[span.start:span.end], span.unit or "")
        elif kind == "choices" and name in scheme.choices:
            pending_choices.append((here, r, name))
        else:
            problems.append(f"{here}: result of type {kind!r} from control {name!r}, which the labeling config of this "
                            f"project does not have")
    by_offsets: dict[tuple[int, int], list[Region]] = {}
    for g in regions.values():
        by_offsets.setdefault((g.start, g.end), []).append(g)
    for here, r, name in pending_choices:
        value = r["value"]
        reg = regions.get(r.get("id")) if isinstance(r.get("id"), str) else None
        if reg is None:  # fallback: the one region with identical offsets
            span = resolve_span(ix, value.get("start"), value.get("end"), value.get("text"))
            same = by_offsets.get((span.start, span.end), []) if span.error is None else []
            if len(same) != 1:
                problems.append(f"{here}: per-region {name} choice joins no region (no region with this id"
                                + (", and several regions with its offsets)" if same else " or offsets)"))
                continue
            reg = same[0]
        allowed = scheme.choices[name][1]
        vals = value.get("choices")
        if not isinstance(vals, list) or len(vals) != 1 or vals[0] not in allowed:
            problems.append(f"{here}: {name} must be one of {list(allowed)}, got {vals!r}")
            continue
        if name in reg.choices:
            problems.append(f"{here}: {name} chosen twice on region {reg.id}")
            continue
        reg.choices[name] = vals
    for rel in relations:
        for end in (rel.from_id, rel.to_id):
            if end not in regions:
                problems.append(f"{where}, relation {rel.from_id}->{rel.to_id}: relation to a missing region {end!r}")
    if problems:
        raise ConversionError(problems)
    return Parsed(regions, relations, warnings)


_ROLE_KINDS = {"source": ("content", "entity"), "cue": ("content", "cue"), "holder": ("stance", "entity"),
               "evidence": ("stance", "content")}


def _item_id(rid: str) -> str:
    """A schema ItemId for a Label Studio region id: kept when it is one; otherwise (UI ids may
    start with ``_`` or ``-``, hand-made ones hold spaces or Arabic) ``r`` + a short hash of it,
    so distinct region ids stay distinct."""
    if _ITEM_ID.fullmatch(rid):
        return rid
    import hashlib

    return "r" + hashlib.sha256(rid.encode("utf-8")).hexdigest()[:12]


def _chosen(scheme: Scheme, region: Region, fieldname: str) -> str | None:
    for tag, (f, _) in scheme.choices.items():
        if f == fieldname and tag in region.choices:
            return region.choices[tag][0]
    return None


def results_to_annotation(result: Any, text: str, scheme: Scheme, where: str) -> tuple[dict[str, list[Any]], list[str]]:
    """Convert one Label Studio annotation's results into schema items.

    Args:
        result, text, scheme, where: as for :func:`parse_results`.

    Returns:
        ``({"entities": [...], "claims": [...], "stances": [...]}, warnings)``, items in result
        order, spans verified against ``text``. A relation's role comes from its label and the
        kinds of its two regions, whichever way the arrow was drawn (case 06).

    Raises:
        ConversionError: every problem of :func:`parse_results`, plus: a relation with no label,
            an unknown label, or between regions of the wrong kinds; a claim with two sources or a
            gap in its ``via-k`` chain; a cue region linked to no claim; a stance with no holder or
            no stance label.
    """
    parsed = parse_results(result, text, scheme, where)
    regions = parsed.regions
    problems: list[str] = []
    ids = {rid: _item_id(rid) for rid in regions}
    clash = {v for v in ids.values() if list(ids.values()).count(v) > 1} if len(set(ids.values())) < len(ids) else set()
    for rid, iid in ids.items():
        if iid in clash and iid != rid:
            problems.append(f"{where}, region {rid}: its id becomes {iid!r}, which another region has")
    links: dict[str, dict[str, list[str]]] = {rid: {} for rid in regions}
    for rel in parsed.relations:
        here = f"{where}, relation {rel.from_id}->{rel.to_id}"
        if len(rel.labels) != 1:
            problems.append(f"{here}: a relation needs exactly one label of {list(scheme.relations)}, got {rel.labels!r}")
            continue
        role = scheme.relations.get(rel.labels[0])
        if role is None:
            problems.append(f"{here}: label-unknown: relation label {rel.labels[0]!r} is not one of {list(scheme.relations)}")
            continue
        kinds = _ROLE_KINDS.get(role) or ("content", "entity")  # via-k
        a, b = regions[rel.from_id], regions[rel.to_id]
        if (a.kind, b.kind) == kinds:
            head, tail = a, b
        elif (b.kind, a.kind) == kinds:
            head, tail = b, a
        else:
            problems.append(f"{here}: a {rel.labels[0]} relation joins a {kinds[0]} region and a {kinds[1]} region, "
                            f"not {a.kind} and {b.kind}")
            continue
        links[head.id].setdefault(role, []).append(tail.id)
    entities = [{"id": ids[g.id], "start": g.start, "end": g.end, "text": g.text, "type": scheme.entity_types[g.label]}
                for g in regions.values() if g.kind == "entity"]
    cues_used: set[str] = set()
    claims = []
    for g in regions.values():
        if g.kind != "content":
            continue
        here = f"{where}, region {g.id}"
        lk = links[g.id]
        for role in ("source", "cue"):
            if len(lk.get(role, [])) > 1:
                problems.append(f"{here}: the claim has {len(lk[role])} {role} relations; it takes one")
        via = []
        for k in range(1, MAX_VIA + 1):
            got = lk.get(f"via-{k}", [])
            if len(got) > 1:
                problems.append(f"{here}: the claim has {len(got)} via-{k} relations; it takes one")
            if got and len(via) != k - 1:
                problems.append(f"{here}: via-{k} without via-{k - 1}: the reporting chain has a gap")
            via.extend(ids[x] for x in got[:1])
        cue = None
        if lk.get("cue"):
            c = regions[lk["cue"][0]]
            cues_used.add(c.id)
            cue = {"start": c.start, "end": c.end, "text": c.text}
        src = lk.get("source")
        claims.append({"id": ids[g.id], "content": {"start": g.start, "end": g.end, "text": g.text}, "cue": cue,
                       "source": ids[src[0]] if src else None, "via": via,
                       "checkworthy": _chosen(scheme, g, "checkworthy"), "speech": _chosen(scheme, g, "speech")})
    for g in regions.values():
        if g.kind == "cue" and g.id not in cues_used:
            problems.append(f"{where}, region {g.id}: a cue linked to no claim (draw a cue relation from its content)")
        fields = {"content": ("checkworthy", "speech"), "stance": ("stance_label",)}.get(g.kind, ())
        wrong = {t for t in g.choices if scheme.choices[t][0] not in fields}
        if wrong:
            problems.append(f"{where}, region {g.id}: {sorted(wrong)} chosen on a {g.kind} region")
    stances = []
    stance_pairs: dict[tuple[str, str], str] = {}
    for g in regions.values():
        if g.kind != "stance":
            continue
        here = f"{where}, region {g.id}"
        holders = links[g.id].get("holder", [])
        if not holders:  # fallback: the one entity region over the same words
            holders = [e.id for e in regions.values() if e.kind == "entity" and (e.start, e.end) == (g.start, g.end)]
            if len(holders) != 1:
                problems.append(f"{here}: the stance has no holder relation to an entity"
                                + (" and several entities share its span" if holders else ""))
                continue
        if len(holders) > 1:
            problems.append(f"{here}: the stance has {len(holders)} holder relations; it takes one")
        label = _chosen(scheme, g, "stance_label")
        if label is None:
            problems.append(f"{here}: the stance has no stance label ({'/'.join(scheme.stance_labels)})")
            continue
        pair = (holders[0], g.label)
        if pair in stance_pairs:
            problems.append(f"{here}: a second stance of the same holder on {g.label!r} (the first is region {stance_pairs[pair]}); "
                            "one stance per holder and target (guidelines §5)")
            continue
        stance_pairs[pair] = g.id
        evidence = [ids[x] for x in links[g.id].get("evidence", [])]
        stances.append({"id": ids[g.id], "holder": ids[holders[0]], "target": g.label, "label": label, "evidence": evidence})
    if problems:
        raise ConversionError(problems)
    return {"entities": entities, "claims": claims, "stances": stances}, parsed.warnings


def refuse_json_min(export: Any, source: str) -> None:
    """Raise if ``export`` is Label Studio's JSON-MIN format (no result ids, no relations, per-region
    values flattened into lists — cases 06 and 07).

    Raises:
        InputError: naming ``source`` and the format.
    """
    items = export if isinstance(export, list) else [export]
    if items and all(_is_json_min(i) for i in items):
        raise InputError(f"{source}: this is a JSON-MIN export, which drops relations and result ids "
                         "(so sources, reporting chains and per-region choices cannot be joined)",
                         hint="export the project as 'JSON' (the full format) or use `khabar studio pull`")
