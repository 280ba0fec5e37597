"""The Label Studio labeling config, generated from ``schema/`` (the single source of truth).

How each field of an annotation file (``schema/annotation.schema.json``) is annotated:

=====================  ======================================================================
schema field           Label Studio
=====================  ======================================================================
``entities[]``         a region of the ``entity`` Labels tag; label = Wojood type
                       (``EntityType``); region id = entity id; regions may nest
``claims[].content``   a region of the ``attribution`` Labels tag, label ``content``;
                       region id = claim id
``claims[].cue``       an ``attribution`` region labelled ``cue``, joined to its content
                       region by a ``cue`` relation
``claims[].source``    a ``source`` relation between the content region and an entity region
``claims[].via``       relations ``via-1`` … ``via-N`` between the content region and entity
                       regions (``via-1`` = outermost reporter, as in the schema's list order;
                       N = the Claim's ``via.maxItems``, :func:`max_via`)
``claims[].checkworthy``  per-region Choices ``checkworthy`` on the content region
``claims[].speech``    per-region Choices ``speech`` on the content region
``stances[]``          a region of the ``stance`` Labels tag over the holder's words; label =
                       target (``StanceTarget``); region id = stance id
``stances[].holder``   a ``holder`` relation between the stance region and an entity region
``stances[].label``    per-region Choices ``stance_label`` on the stance region
``stances[].evidence`` ``evidence`` relations between the stance region and content regions
=====================  ======================================================================

Relations join two regions of fixed kinds, so their role never depends on the arrow's
direction (``right``, ``left`` or ``bi``). Labels come from the enums of ``schema/labels.schema.json``
with their English and Arabic names as hints. The text is shown right-to-left: Label Studio's
``<Text>`` tag has no direction attribute, so it is wrapped in ``<View style="direction: rtl">``.

Public API: :class:`Scheme` (which tag, label and relation means what), :func:`labeling_config`
(the XML; :func:`project_labeling_config` for a project's ``schema/``), :func:`same_config`
(compare two configs), :func:`max_via` (the reporting-chain limit the schema sets).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

from khabar.core.errors import InputError
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.core.targets import applicable

__all__ = ["Scheme", "labeling_config", "project_labeling_config", "same_config", "max_via"]


def max_via(schemas: Schemas) -> int:
    """The longest reporting chain a claim may have: ``maxItems`` of the Claim's ``via`` array in
    ``schema/annotation.schema.json`` (the config offers ``via-1`` … ``via-<max_via>``).

    Raises:
        InputError: the schema sets no positive integer ``maxItems`` there (a config needs a bound).
    """
    via = schemas["annotation"]["$defs"]["Claim"]["properties"]["via"]
    limit = via.get("maxItems")
    if type(limit) is not int or limit < 1:
        raise InputError("schema/annotation.schema.json: $defs.Claim.properties.via needs a positive integer maxItems "
                         f"(the labeling config offers via-1 … via-<maxItems>), got {limit!r}")
    return limit

_PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
            "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
            "#808000", "#ffd8b1", "#000075", "#808080", "#b0b0ff"]


@dataclass(frozen=True)
class Scheme:
    """Names of the tags, labels and relations of a labeling config, and the vocabularies.

    The default (:meth:`from_schemas`) is Khabar's own; tests build others to read foreign
    exports (e.g. a config whose ``label`` tag holds both ``PER`` and ``CLAIM``).

    Attributes:
        entity_tags: Labels tag names whose regions are entities.
        entity_types: label value -> schema ``EntityType`` (identity for Khabar's config).
        attribution_tags: Labels tag names for claim contents and cues.
        content_label, cue_label: the label values of content and cue regions.
        stance_tags: Labels tag names whose regions are stances; label = target.
        stance_targets: the ``StanceTarget`` vocabulary.
        choices: per-region Choices tag name -> (field, allowed values); fields are
            ``checkworthy``, ``speech`` (on content regions) and ``stance_label`` (on stance regions).
        relations: relation label -> role: ``source``, ``via-<k>``, ``cue``, ``holder``, ``evidence``.
        text_name: the name of the ``<Text>`` tag regions point to.
    """

    entity_tags: frozenset[str]
    entity_types: dict[str, str]
    attribution_tags: frozenset[str]
    content_label: str
    cue_label: str
    stance_tags: frozenset[str]
    stance_targets: tuple[str, ...]
    choices: dict[str, tuple[str, tuple[str, ...]]]
    relations: dict[str, str]
    text_name: str = "text"

    @classmethod
    def from_schemas(cls, schemas: Schemas) -> "Scheme":
        """Khabar's scheme: vocabularies from ``schema/labels.schema.json``."""
        types = schemas.vocab("EntityType")
        rel = {"source": "source", "cue": "cue", "holder": "holder", "evidence": "evidence"}
        rel.update({f"via-{k}": f"via-{k}" for k in range(1, max_via(schemas) + 1)})
        return cls(
            entity_tags=frozenset({"entity"}), entity_types={t: t for t in types},
            attribution_tags=frozenset({"attribution"}), content_label="content", cue_label="cue",
            stance_tags=frozenset({"stance"}), stance_targets=tuple(schemas.vocab("StanceTarget")),
            choices={"checkworthy": ("checkworthy", tuple(schemas.vocab("Checkworthy"))),
                     "speech": ("speech", tuple(schemas.vocab("Speech"))),
                     "stance_label": ("stance_label", tuple(schemas.vocab("StanceLabel")))},
            relations=rel)

    @property
    def max_via(self) -> int:
        """How many ``via-<k>`` roles the relations offer, counting ``via-1``, ``via-2`` … until
        one is missing (0 for a scheme without reporting chains)."""
        roles = set(self.relations.values())
        k = 0
        while f"via-{k + 1}" in roles:
            k += 1
        return k

    @property
    def stance_labels(self) -> tuple[str, ...]:
        """The allowed values of the Choices tag that holds ``stance_label`` (the schema's
        ``StanceLabel`` vocabulary for Khabar's scheme); ``()`` when the scheme has none."""
        return next((values for f, values in self.choices.values() if f == "stance_label"), ())

    def choice_tag(self, fieldname: str) -> str:
        """The Choices tag name that holds ``fieldname``."""
        for tag, (f, _) in self.choices.items():
            if f == fieldname:
                return tag
        raise KeyError(fieldname)

    def relation_label(self, role: str) -> str:
        """The relation label of ``role``."""
        for label, r in self.relations.items():
            if r == role:
                return label
        raise KeyError(role)


def stance_target_options(schemas: Schemas, doc_id: str) -> list[dict[str, str]]:
    """Task data ``stance_targets`` of a document: one dynamic ``<Label>`` per registry target that
    applies to it (``schema/stance-targets.json``, ``documents``), in registry order, as
    ``{"value": id, "background": …, "hint": English / Arabic: what FAVOR and AGAINST mean}``."""
    registry = schemas.targets_registry or {"targets": []}
    tinfo = schemas.vocab_info("StanceTarget")
    out = []
    for tid in applicable(registry, doc_id):
        x = tinfo.get(tid, {})
        hint = _hint(tinfo, tid) + (f" FAVOR: {x['favor']} AGAINST: {x['against']}" if x.get("favor") else "")
        out.append({"value": tid, "background": "#597ef7", "hint": hint})
    return out


def _hint(info: dict, value: str) -> str:
    """A label's hint: its English / Arabic names and description from the vocabulary's ``x-labels``."""
    i = info.get(value, {})
    parts = [p for p in (i.get("en"), i.get("ar")) if p]
    desc = i.get("description")
    return " / ".join(parts) + (f": {desc}" if desc else "")


def labeling_config(schemas: Schemas) -> str:
    """The labeling config (Label Studio XML) for Khabar's scheme, as a string.

    Deterministic: the same ``schema/`` gives the same bytes. Task data fields used: ``$text``
    (the document text) and ``$title_line`` (doc id and title, shown above the text).
    """
    s = Scheme.from_schemas(schemas)
    root = ET.Element("View")
    ent = ET.SubElement(root, "Labels", name="entity", toName=s.text_name, choice="single", showInline="true")
    info = schemas.vocab_info("EntityType")
    for i, t in enumerate(s.entity_types):
        ET.SubElement(ent, "Label", value=t, background=_PALETTE[i % len(_PALETTE)], hint=_hint(info, t))
    att = ET.SubElement(root, "Labels", name="attribution", toName=s.text_name, choice="single", showInline="true")
    ET.SubElement(att, "Label", value=s.content_label, background="#ffa39e",
                  hint="claim content (PARC): what is reported to have been said")
    ET.SubElement(att, "Label", value=s.cue_label, background="#d4380d",
                  hint="cue (PARC): the reporting verb or noun, e.g. قال، أعلن، بحسب")
    # dynamic labels: each task offers the targets that apply to its document (task data
    # ``stance_targets``, :func:`stance_target_options`), not every target of the corpus
    ET.SubElement(root, "Labels", name="stance", toName=s.text_name, choice="single", showInline="true", value="$stance_targets")
    rels = ET.SubElement(root, "Relations", choice="single")
    for label in s.relations:
        ET.SubElement(rels, "Relation", value=label)
    for tag, (fname, values), when in (
            ("checkworthy", s.choices["checkworthy"], s.content_label),
            ("speech", s.choices["speech"], s.content_label),
            ("stance_label", s.choices["stance_label"], ",".join(s.stance_targets))):
        # above the text, so the choices of a selected region show without scrolling a long article
        box = ET.SubElement(root, "View", visibleWhen="region-selected", whenLabelValue=when)
        ET.SubElement(box, "Header", value=fname.replace("_", " "), size="5")
        ch = ET.SubElement(box, "Choices", name=tag, toName=s.text_name, perRegion="true", choice="single-radio")
        vinfo = schemas.vocab_info({"checkworthy": "Checkworthy", "speech": "Speech", "stance_label": "StanceLabel"}[fname])
        for v in values:
            ET.SubElement(ch, "Choice", value=v, hint=_hint(vinfo, v))
    # white-space: pre-wrap: the text shown as stored (line breaks and runs of spaces), so that a
    # region's value.text is the text's own characters (Label Studio collapses them otherwise)
    rtl = ET.SubElement(root, "View", style="direction: rtl; text-align: right; font-size: 1.15em; line-height: 1.9; "
                                             "white-space: pre-wrap")
    ET.SubElement(rtl, "Header", value="$title_line", size="4")
    ET.SubElement(rtl, "Text", name=s.text_name, value="$text", granularity="symbol")
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"


def project_labeling_config(project: Project) -> str:
    """The labeling config (Label Studio XML) generated from ``project``'s ``schema/`` folder.

    Raises:
        InputError: a schema file is missing or not strict JSON; the Claim's ``via`` has no bound.
    """
    return labeling_config(Schemas(project.schema))


def _canonical(xml: str, styles: bool = True) -> str:
    """``xml`` in canonical form (C14N, whitespace-only text dropped; without ``styles``, every
    ``style`` attribute dropped too), for comparison."""
    root = ET.fromstring(xml)
    for el in root.iter():
        el.text = (el.text or "").strip() or None
        el.tail = None
        if not styles:
            el.attrib.pop("style", None)
    return ET.canonicalize(ET.tostring(root, encoding="unicode"), strip_text=True)


def same_but_style(a: str, b: str) -> bool:
    """True when two labeling configs differ at most in ``style`` attributes (how the text is
    shown, never what an annotation holds)."""
    try:
        return _canonical(a, styles=False) == _canonical(b, styles=False)
    except ET.ParseError:
        return False


def same_config(a: str, b: str) -> bool:
    """True when two labeling configs are the same XML (whitespace and attribute order aside)."""
    try:
        return _canonical(a) == _canonical(b)
    except ET.ParseError:
        return False
