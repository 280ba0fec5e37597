"""Read a Label Studio ``result`` list into regions, per-region choices and relations.

A Label Studio annotation (or prediction) is a list of *results*: regions (``type: labels``,
with ``value.start``/``end``/``text``/``labels``), per-region choices (``type: choices`` with the
region's id) and relations (``type: relation`` with ``from_id``, ``to_id``, ``direction`` and
``labels``). See https://labelstud.io/guide/export#Label-Studio-JSON-format-of-annotated-tasks and
:mod:`khabar.studio.config` for which tag holds which schema field.

This is the first phase of the pull direction: every span is verified against the task's text
(:mod:`khabar.studio.offsets`; offsets become Unicode code points, half-open ``[start, end)``)
and every choice and relation joined to its regions. :mod:`khabar.studio.to_annotation` then
turns what is read into schema items.

Public API: :func:`parse_results`, :class:`Region`, :class:`Relation`, :class:`Parsed`,
:class:`ConversionError`, :func:`refuse_json_min`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from khabar.core.errors import InputError
from khabar.studio.config import Scheme
from khabar.studio.offsets import Utf16Index, resolve_span

__all__ = ["parse_results", "Region", "Relation", "Parsed", "ConversionError", "refuse_json_min"]


class ConversionError(InputError):
    """Label Studio results that cannot become a schema annotation. ``problems`` lists every
    reason, each naming the task, annotation and region (or relation)."""

    def __init__(self, problems: list[str], hint: str | None = None):
        super().__init__("\n".join(problems), hint=hint)
        self.problems = problems


@dataclass
class Region:
    """A labelled span: ``kind`` is ``entity``, ``content``, ``cue`` or ``stance``; ``label`` is the
    label value as in the config; ``start``/``end`` are code points (half-open); ``unit`` tells
    which offset unit the result used; ``choices`` maps a Choices tag name to its values."""

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


@dataclass
class _Reading:
    """What :func:`parse_results` has read so far of one result list, and its problems."""

    text: str
    scheme: Scheme
    where: str
    ix: Utf16Index
    label_tags: frozenset[str]
    regions: dict[str, Region] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    pending_choices: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_results(result: Any, text: str, scheme: Scheme, where: str) -> Parsed:
    """Read one annotation's ``result`` list into regions, per-region choices and relations.

    Args:
        result: the ``result`` list of a Label Studio annotation or prediction.
        text: the task's text.
        scheme: which tags and labels mean what.
        where: ``"task 12, annotation 7"`` — prefixed to every problem.

    Returns:
        :class:`Parsed`; spans in code points. A region stored in UTF-16 units (case 01) is
        converted, with a warning naming it; all regions of one annotation must be read in the
        same unit. A ``value.text`` that differs from the span only in white space is a warning.

    Raises:
        ConversionError: every problem at once: a result of an unknown control or type, an unknown
            label, offsets that match the text under neither unit (or both), a choice that joins no
            region, a relation to a missing region, a region labelled by two tags.
    """
    if not isinstance(result, list):
        raise ConversionError([f"{where}: result is {type(result).__name__}, not a list"])
    rd = _Reading(text, scheme, where, Utf16Index(text), scheme.entity_tags | scheme.attribution_tags | scheme.stance_tags)
    for n, r in enumerate(result):
        _read_result(rd, n, r)
    _join_choices(rd)
    _one_unit(rd)
    for rel in rd.relations:
        for end in (rel.from_id, rel.to_id):
            if end not in rd.regions:
                rd.problems.append(f"{where}, relation {rel.from_id}->{rel.to_id}: relation to a missing region {end!r}")
    if rd.problems:
        raise ConversionError(rd.problems)
    return Parsed(rd.regions, rd.relations, rd.warnings)


def _read_result(rd: _Reading, n: int, r: Any) -> None:
    """Read result number ``n``: a relation, a region of a Labels tag, or a per-region choice
    (kept until every region is read); anything else is a problem."""
    if not isinstance(r, dict):
        rd.problems.append(f"{rd.where}, result[{n}]: not an object")
        return
    rid = r.get("id")
    here = f"{rd.where}, region {rid}" if rid is not None else f"{rd.where}, result[{n}]"
    kind = r.get("type")
    if kind == "relation":
        _read_relation(rd, r)
        return
    name = r.get("from_name")
    if not isinstance(name, str) or not isinstance(kind, str):
        rd.problems.append(f"{here}: from_name and type must be strings, got {name!r:.40} and {kind!r:.40}")
        return
    value = r.get("value") if isinstance(r.get("value"), dict) else None
    if value is None:
        rd.problems.append(f"{here}: result has no value object")
        return
    if kind == "labels" and name in rd.label_tags:
        _read_region(rd, here, rid, name, value)
    elif kind == "choices" and name in rd.scheme.choices:
        rd.pending_choices.append((here, r, name))
    else:
        rd.problems.append(f"{here}: result of type {kind!r} from control {name!r}, which the labeling config of this "
                           f"project does not have")


def _read_relation(rd: _Reading, r: dict[str, Any]) -> None:
    """Keep a relation whose labels are a list of strings and whose direction is known."""
    a, b = r.get("from_id"), r.get("to_id")
    labels = r.get("labels") if r.get("labels") is not None else []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        rd.problems.append(f"{rd.where}, relation {a}->{b}: labels must be a list of strings, got {labels!r:.80}")
        return
    direction = r.get("direction", "right")
    if direction not in ("right", "left", "bi"):
        rd.problems.append(f"{rd.where}, relation {a}->{b}: direction {direction!r} is not right, left or bi")
        return
    rd.relations.append(Relation(str(a), str(b), direction, list(labels)))


def _read_region(rd: _Reading, here: str, rid: Any, name: str, value: dict[str, Any]) -> None:
    """Keep a region of Labels tag ``name``: one known label, a non-empty string id not seen yet,
    and offsets that reproduce its text under exactly one unit (:func:`resolve_span`)."""
    labels = value.get("labels")
    if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
        rd.problems.append(f"{here}: {name} region must carry exactly one label, got {labels!r}")
        return
    label = labels[0]
    rkind = _classify(rd.scheme, name, label)
    if rkind is None:
        rd.problems.append(f"{here}: label-unknown: {label!r} is not {_accepts(rd.scheme, name)}")
        return
    if not isinstance(rid, str) or not rid:
        rd.problems.append(f"{here}: a region's id must be a non-empty string, got {rid!r:.40}")
        return
    span = resolve_span(rd.ix, value.get("start"), value.get("end"), value.get("text"))
    if span.error:
        rd.problems.append(f"{here}: {span.error}")
        return
    if span.unit == "utf-16":
        rd.warnings.append(f"{here}: offsets [{value['start']}, {value['end']}) were UTF-16 code units; "
                           f"read as code points [{span.start}, {span.end})")
    if span.whitespace:
        rd.warnings.append(f"{here}: value.text differs from text[{span.start}:{span.end}] only in white space "
                           "(Label Studio collapses it where the text is not shown pre-wrap); the offsets are kept")
    if rid in rd.regions:
        rd.problems.append(f"{here}: the region is labelled twice ({rd.regions[rid].kind} {rd.regions[rid].label!r} and {rkind} {label!r})")
        return
    assert span.start is not None and span.end is not None
    rd.regions[rid] = Region(rid, rkind, label, span.start, span.end, rd.text[span.start:span.end], span.unit or "")


def _one_unit(rd: _Reading) -> None:
    """One annotation is stored in one unit: regions that only code points explain beside regions
    that only UTF-16 units explain are a problem (issue 14: a region whose end lay one past the
    text was read as UTF-16 while its neighbours were read as code points)."""
    by_unit: dict[str, list[str]] = {}
    for g in rd.regions.values():
        by_unit.setdefault(g.unit, []).append(g.id)
    if "code-point" in by_unit and "utf-16" in by_unit:
        rd.problems.append(f"{rd.where}: offsets in two units: region(s) {', '.join(map(repr, by_unit['code-point'][:3]))} read "
                           f"only as code points, {', '.join(map(repr, by_unit['utf-16'][:3]))} only as UTF-16 units; an "
                           "annotation is stored in one unit, so one of them is wrong (check those regions in Label Studio)")


def _join_choices(rd: _Reading) -> None:
    """Put each per-region choice on its region: by result id, else on the one region with the
    same offsets. One allowed value per choice, one choice per tag and region."""
    by_offsets: dict[tuple[int, int], list[Region]] = {}
    for g in rd.regions.values():
        by_offsets.setdefault((g.start, g.end), []).append(g)
    for here, r, name in rd.pending_choices:
        value = r["value"]
        reg = rd.regions.get(r.get("id")) if isinstance(r.get("id"), str) else None
        if reg is None:  # fallback: the one region with identical offsets
            span = resolve_span(rd.ix, value.get("start"), value.get("end"), value.get("text"))
            same = by_offsets.get((span.start, span.end), []) if span.error is None else []
            if len(same) != 1:
                rd.problems.append(f"{here}: per-region {name} choice joins no region (no region with this id"
                                   + (", and several regions with its offsets)" if same else " or offsets)"))
                continue
            reg = same[0]
        allowed = rd.scheme.choices[name][1]
        vals = value.get("choices")
        if not isinstance(vals, list) or len(vals) != 1 or vals[0] not in allowed:
            rd.problems.append(f"{here}: {name} must be one of {list(allowed)}, got {vals!r}")
            continue
        if name in reg.choices:
            rd.problems.append(f"{here}: {name} chosen twice on region {reg.id}")
            continue
        reg.choices[name] = vals


def _classify(scheme: Scheme, tag: str, label: str) -> str | None:
    """The region kind (``entity``, ``content``, ``cue``, ``stance``) of ``label`` in Labels tag
    ``tag``; None when the scheme does not know it there."""
    if tag in scheme.entity_tags and label in scheme.entity_types:
        return "entity"
    if tag in scheme.attribution_tags and label in (scheme.content_label, scheme.cue_label):
        return "content" if label == scheme.content_label else "cue"
    if tag in scheme.stance_tags and label in scheme.stance_targets:
        return "stance"
    return None


def _accepts(scheme: Scheme, tag: str) -> str:
    """What labels tag ``tag`` accepts, for a ``label-unknown`` message."""
    out = []
    if tag in scheme.entity_tags:
        out.append("an entity type of the schema")
    if tag in scheme.attribution_tags:
        out.append(f"{scheme.content_label!r} or {scheme.cue_label!r}")
    if tag in scheme.stance_tags:
        out.append("a stance target of the schema")
    return " or ".join(out)


def _is_json_min(item: Any) -> bool:
    """Whether an exported task looks like JSON-MIN (flattened: no ``result``, no ``value``)."""
    return isinstance(item, dict) and "result" not in item and "value" not in item and (
        "annotation_id" in item or "annotator" in item)


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
