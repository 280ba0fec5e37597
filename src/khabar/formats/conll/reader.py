"""CoNLL NER files: the formats, their classes, and reading with every line checked (pure functions;
the layout of a written file is :func:`khabar.formats.conll.exporter.document_lines`).

Two formats (:data:`FORMATS`, a registry):

``wojood``
    The nested format of the Wojood corpus (Jarrar et al., LREC 2022; SinaLab/ArabicNER
    ``data/*.txt``): one token per line, ``token TAG [TAG ...]`` separated by spaces, a token's
    tags listed outermost first (IOB2 each); a blank line between sentences; a line ``$#$ O``
    closes a paragraph (written after a paragraph's last sentence, before the blank line).
``aqmar``
    The AQMAR Arabic Wikipedia NER corpus (Mohit et al., EACL 2012): ``token TAG``, one IOB2 tag,
    classes ``PER``, ``LOC``, ``ORG`` and the per-article miscellaneous classes ``MIS0``-``MIS3``;
    a blank line between sentences; no paragraph marks.

Classes -> Wojood types (the schema's ``EntityType``). The crosswalk lives in
``schema/labels.schema.json``: each type's ``x-labels`` has an ``aqmar`` class (``PERS``->``PER``,
``ORG``->``ORG``, and ``LOC``, ``GPE``, ``FAC``->``LOC``: AQMAR tags cities, countries and mosques
``LOC``, so it does not tell GPE or FAC from LOC). On import an AQMAR class maps to the one type
that crosswalks to it, or, when several do, to the type of the same name (``LOC``->``LOC``): an
imported ``LOC`` may be a GPE or FAC in Wojood terms. ``MIS0``-``MIS3`` have no Wojood type (their
meaning changes per article): an explicit ``--map MIS1=EVENT`` is required, and the export inverts
it. Wojood classes map to themselves.

Files are UTF-8 (a BOM and CRLF line ends are accepted; a bare CR, as in old Mac files, is
refused); fields are separated by spaces or tabs. Line numbers in messages are 1-based.

Annotator ids (:func:`annotator_problem`): the ``AnnotatorId`` pattern of
``schema/common.schema.json``, and not a name whose ``annotations/<doc_id>/<name>.json`` is
another kind of file: :data:`khabar.core.project.NOT_ANNOTATORS` (``gold``, ``preannotator``,
``conflicts``), ``annotators`` (the registry's name) and ``*.draft`` (Label Studio drafts).

Public API: the registry :data:`FORMATS` of :class:`ConllFormat`; :func:`read_conll` (a
:class:`ConllFile` of :class:`Paragraph` and :class:`Token`); :func:`import_classes`,
:func:`export_classes`, :func:`parse_map`; :func:`annotator_problem` and :data:`RESERVED_NAMES`;
:func:`refusal` and :data:`MAX_PROBLEMS_SHOWN`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from khabar.core.project import DRAFT_SUFFIX, NOT_ANNOTATORS
from khabar.text.bio import TagError, parse_tags, spans_from_tags
from khabar.core.errors import InputError
from khabar.core.schema import Schemas

__all__ = ["ConllFormat", "FORMATS", "Token", "Paragraph", "ConllFile", "read_conll", "import_classes", "export_classes",
           "parse_map", "refusal", "annotator_problem", "RESERVED_NAMES", "MAX_PROBLEMS_SHOWN"]

MAX_PROBLEMS_SHOWN = 20
AQMAR_MIS = ("MIS0", "MIS1", "MIS2", "MIS3")
_CLASS = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_FIELDS = re.compile(r"[ \t]+")
#: names that are not annotator files in ``annotations/<doc_id>/`` (besides ``*.draft``)
RESERVED_NAMES = NOT_ANNOTATORS


@dataclass(frozen=True)
class ConllFormat:
    """One CoNLL dialect: ``max_tags`` per token (None: any number, nested), the paragraph mark
    line's token (None: none), the default annotator id and the source corpus it stands for."""

    name: str
    max_tags: int | None
    paragraph_mark: str | None
    default_annotator: str
    source: str


FORMATS: dict[str, ConllFormat] = {
    "wojood": ConllFormat("wojood", None, "$#$", "wojood",
                          "the Wojood nested Arabic NER corpus (SinaLab, Birzeit University; Jarrar et al., LREC 2022)"),
    "aqmar": ConllFormat("aqmar", 1, None, "aqmar",
                         "the AQMAR Arabic Wikipedia NER corpus (Mohit et al., EACL 2012)"),
}


@dataclass
class Token:
    """One token line: its 1-based ``line``, ``text`` as in the file, ``tags`` as in the file."""

    line: int
    text: str
    tags: list[str]


@dataclass
class Paragraph:
    """Sentences (lists of tokens) up to a paragraph mark (``mark_line``; None when the file ends
    first, or the format has no marks). ``entities`` are ``(first, stop, type, line)``: token
    indexes into :attr:`tokens` (half-open), the Wojood type, the line of the first token; in file
    order, of equal ranges the one whose tag came first (the outer one) first."""

    sentences: list[list[Token]] = field(default_factory=list)
    mark_line: int | None = None
    entities: list[tuple[int, int, str, int]] = field(default_factory=list)

    @property
    def tokens(self) -> list[Token]:
        return [t for s in self.sentences for t in s]


@dataclass
class ConllFile:
    """A checked CoNLL file: its ``name`` (for messages), ``format``, ``paragraphs`` and the tag
    ``repairs`` made while reading it (:mod:`khabar.formats.conll.repair`; only with ``repair``)."""

    name: str
    format: str
    paragraphs: list[Paragraph]
    repairs: list[Any] = field(default_factory=list)


def parse_map(items: Sequence[str]) -> dict[str, str]:
    """``["MIS1=EVENT", ...]`` -> ``{"MIS1": "EVENT"}``.

    Raises:
        InputError: an item that is not ``CLASS=TYPE``, or a class given twice.
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not _CLASS.fullmatch(key) or not _CLASS.fullmatch(value):
            raise InputError(f"--map {item!r}: expected CLASS=TYPE", hint="e.g. --map MIS1=EVENT")
        if key in out:
            raise InputError(f"--map: class {key} is mapped twice ({key}={out[key]}, {item})")
        out[key] = value
    return out


def import_classes(fmt: str, schemas: Schemas, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """``{file class: Wojood type}`` for reading format ``fmt`` (see the module docstring), with
    the user's ``mapping`` on top (it may add classes or override the crosswalk).

    Raises:
        InputError: a mapping target that is not an ``EntityType`` of the schema.
    """
    types = schemas.vocab("EntityType")
    out: dict[str, str] = {}
    if fmt == "wojood":
        out = {t: t for t in types}
    else:
        info = schemas.vocab_info("EntityType")
        by_class: dict[str, list[str]] = {}
        for t in types:
            if info.get(t, {}).get(fmt):
                by_class.setdefault(info[t][fmt], []).append(t)
        for cls, cands in by_class.items():
            if len(cands) == 1 or cls in cands:
                out[cls] = cands[0] if len(cands) == 1 else cls
    for cls, typ in (mapping or {}).items():
        if typ not in types:
            raise InputError(f"--map {cls}={typ}: {typ} is not a Wojood entity type of schema/labels.schema.json",
                             hint="types: " + ", ".join(types))
        out[cls] = typ
    return out


def export_classes(fmt: str, schemas: Schemas, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """``{Wojood type: file class}`` for writing format ``fmt``: the identity for ``wojood``, the
    schema's ``aqmar`` crosswalk for ``aqmar``; the user's import ``mapping`` (``MIS1=EVENT``) is
    inverted on top (``EVENT`` -> ``MIS1``). Types missing from the result cannot be written.

    Raises:
        InputError: a mapping target that is not an entity type, or two classes mapped to one type.
    """
    types = schemas.vocab("EntityType")
    info = schemas.vocab_info("EntityType")
    out = {t: t for t in types} if fmt == "wojood" else {t: info[t][fmt] for t in types if info.get(t, {}).get(fmt)}
    seen: dict[str, str] = {}
    for cls, typ in (mapping or {}).items():
        if typ not in types:
            raise InputError(f"--map {cls}={typ}: {typ} is not a Wojood entity type of schema/labels.schema.json")
        if typ in seen:
            raise InputError(f"--map {seen[typ]}={typ} and {cls}={typ}: the export cannot invert two classes mapped to one type")
        seen[typ] = cls
        out[typ] = cls
    return out


def annotator_problem(label: str, schemas: Schemas, allowed: frozenset[str] = frozenset(),
                      option: str = "--annotator") -> str | None:
    """Why ``label`` cannot name an annotator file ``annotations/<doc_id>/<label>.json`` (None
    when it can): not the ``AnnotatorId`` pattern of ``schema/common.schema.json``, or one of
    :data:`RESERVED_NAMES` or ``*.draft`` (names in ``allowed`` aside; the export reads ``gold``
    and ``preannotator`` files)."""
    if not re.fullmatch(schemas["common"]["$defs"]["AnnotatorId"]["pattern"], label):
        return (f"{option} {label!r}: not a pseudonymous annotator id (a lower-case letter or digit, then up to 63 "
                "lower-case letters, digits, _ . -)")
    if label not in allowed and (label in RESERVED_NAMES or label.endswith(DRAFT_SUFFIX)):
        names = ", ".join(sorted(RESERVED_NAMES - allowed)) + f", *{DRAFT_SUFFIX}"
        return (f"{option} {label!r}: a reserved name: annotations/<doc_id>/{label}.json is not an annotator's file "
                f"(reserved: {names})")
    return None


def _decode(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(f"{name}: line {line}: not UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start})",
                         hint="convert the file to UTF-8 first, e.g. iconv -f cp1256 -t utf-8") from None
    text = text[1:] if text.startswith("\ufeff") else text
    bare = re.search(r"\r(?!\n)", text)
    if bare:
        line = text.count("\n", 0, bare.start()) + 1
        if "\n" not in text:
            raise InputError(f"{name}: line {line}: line ends are CR only; convert to LF or CRLF",
                             hint=f"e.g. tr '\\r' '\\n' < {name} > {name}.lf")
        raise InputError(f"{name}: line {line}: a bare CR (carriage return not followed by LF) in the line; "
                         "line ends must be LF or CRLF", hint="remove the stray CR, or convert the line ends to LF")
    return text


def _class_problem(fmt: ConllFormat, cls: str) -> tuple[str, str]:
    if fmt.name == "aqmar" and cls in AQMAR_MIS:
        return (f"entity class {cls} has no Wojood type (AQMAR's MIS0-MIS3 are per-article miscellaneous classes)",
                f"pass an explicit mapping to a Wojood type, e.g. --map {cls}=EVENT")
    what = "an AQMAR class (PER, LOC, ORG, MIS0-MIS3)" if fmt.name == "aqmar" else "a Wojood type of schema/labels.schema.json"
    return f"entity class {cls} is not {what}", f"map it explicitly to a Wojood type, e.g. --map {cls}={_LIKELY.get(cls.upper(), 'ORG')}"


#: the Wojood type a common CoNLL class most likely means (only for the example in a hint)
_LIKELY = {"PER": "PERS", "PERSON": "PERS", "GPE": "GPE", "LOC": "LOC", "LOCATION": "LOC", "ORG": "ORG",
           "ORGANIZATION": "ORG", "DATE": "DATE", "TIME": "TIME", "MONEY": "MONEY", "PERCENT": "PERCENT", "FAC": "FAC"}


def read_conll(data: bytes, name: str, fmt: str, classes: dict[str, str], repair: bool = False) -> ConllFile:
    """Parse and check a CoNLL file of format ``fmt`` (a key of :data:`FORMATS`).

    Args:
        data: the file's bytes.
        name: the file name used in messages.
        classes: ``{file class: Wojood type}`` (from :func:`import_classes`).
        repair: first apply the stated repairs of :mod:`khabar.formats.conll.repair` (malformed
            tags, a dangling ``I-``), listed in the result's ``repairs``.

    Returns:
        A :class:`ConllFile` whose entities carry Wojood types.

    Raises:
        InputError: not UTF-8 (the line and byte); CR-only line ends or a stray CR (the line);
            no token at all; otherwise every bad line
            (up to :data:`MAX_PROBLEMS_SHOWN`, then a count): a line with no tag, more tags than
            the format allows, a malformed tag (``OO``, ``IO``, ``I--ORG``, ``B-``), ``O`` among
            other tags, a class with no Wojood type (the first line of each such class, and how
            many more), a paragraph mark with another tag than ``O``, an ``I-X`` that continues
            no ``X`` entity (strict IOB2; a blank line or paragraph mark ends every entity).
    """
    spec = FORMATS[fmt]
    text = _decode(data, name)
    repairs: list[Any] = []
    if repair:
        from khabar.formats.conll.repair import repair_tags

        text, repairs = repair_tags(text, spec.paragraph_mark)
    problems: list[tuple[int, str]] = []
    unknown: dict[str, list[int]] = {}
    paragraphs = _parse_lines(text, spec, classes, problems, unknown)
    if not any(p.sentences for p in paragraphs) and not problems:
        raise InputError(f"{name}: empty file (no token lines)")
    hints = _class_problems(spec, unknown, problems)
    bad_lines = {n for n, _ in problems} | {n for lines in unknown.values() for n in lines}
    _find_entities(paragraphs, classes, bad_lines, problems)
    if problems:
        raise refusal(name, [f"{name}: line {n}: {msg}" for n, msg in sorted(problems)],
                      hints[0] if hints else (None if repair else _repair_hint(problems)))
    return ConllFile(name, fmt, paragraphs, repairs)


def _repair_hint(problems: list[tuple[int, str]]) -> str | None:
    """The ``--repair`` hint when the refusal holds problems it would repair."""
    if any(msg.startswith("malformed tag") or "continues no" in msg or "does not continue" in msg for _, msg in problems):
        return ("--repair applies stated rules (OO -> O, I--X -> I-X, B- -> O, a dangling I-X -> B-X as conlleval reads it) "
                "and writes a report of every repair")
    return None


def _parse_lines(text: str, spec: ConllFormat, classes: dict[str, str], problems: list[tuple[int, str]],
                 unknown: dict[str, list[int]]) -> list[Paragraph]:
    """Split the decoded file into paragraphs of sentences of tokens (entities not yet found).

    Each bad line goes to ``problems`` as ``(line, reason)``: a paragraph mark with another tag
    than ``O``, a token with no tag, too many tags, a malformed tag. Each class not in
    ``classes`` goes to ``unknown`` with the lines it is on. A paragraph left empty by a mark at
    the end of the file is dropped.
    """
    paragraphs = [Paragraph()]
    sentence: list[Token] = []

    def close_sentence() -> None:
        nonlocal sentence
        if sentence:
            paragraphs[-1].sentences.append(sentence)
            sentence = []

    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r").strip(" \t")
        if not line:
            close_sentence()
            continue
        fields = _FIELDS.split(line)
        tok, tags = fields[0], fields[1:]
        if spec.paragraph_mark is not None and tok == spec.paragraph_mark:
            if tags != ["O"]:
                problems.append((n, f"paragraph mark with tag(s) {' '.join(tags) or '(none)'} (expected '{tok} O')"))
            close_sentence()
            paragraphs[-1].mark_line = n
            paragraphs.append(Paragraph())
            continue
        if not tags:
            problems.append((n, f"no tag after the token {tok!r}"))
        elif spec.max_tags is not None and len(tags) > spec.max_tags:
            problems.append((n, f"{len(tags)} tags; the {spec.name} format has {spec.max_tags} tag per token"))
        else:
            try:
                for parsed in parse_tags(tags):
                    if parsed is not None and parsed[1] not in classes:
                        unknown.setdefault(parsed[1], []).append(n)
            except TagError as err:
                problems.append((n, str(err)))
        sentence.append(Token(n, tok, tags))
    close_sentence()
    if not paragraphs[-1].sentences and paragraphs[-1].mark_line is None and len(paragraphs) > 1:
        paragraphs.pop()  # the file ended right after a paragraph mark
    return paragraphs


def _class_problems(spec: ConllFormat, unknown: dict[str, list[int]], problems: list[tuple[int, str]]) -> list[str]:
    """One problem per unknown class, at its first line, naming up to five more lines and how
    many others; returns the hints (how to map each class), in the same order."""
    hints = []
    for cls, lines in unknown.items():
        msg, hint = _class_problem(spec, cls)
        more = f"; also on line{'s' if len(lines) > 2 else ''} {', '.join(map(str, lines[1:6]))}" if len(lines) > 1 else ""
        problems.append((lines[0], msg + more + (f" and {len(lines) - 6} more" if len(lines) > 6 else "")))
        hints.append(hint)
    return hints


def _find_entities(paragraphs: list[Paragraph], classes: dict[str, str], bad_lines: set[int],
                   problems: list[tuple[int, str]]) -> None:
    """Fill each paragraph's ``entities`` from the IOB2 tags of its sentences (strict: an ``I-X``
    must continue an ``X``), their classes mapped to Wojood types; a sentence with a line in
    ``bad_lines`` is skipped, and a tag sequence that is not IOB2 goes to ``problems``."""
    for para in paragraphs:
        base = 0
        for sent in para.sentences:
            if not any(t.line in bad_lines for t in sent):
                try:
                    spans = spans_from_tags([t.tags for t in sent], None, [t.line for t in sent])
                except TagError as err:
                    where, _, reason = str(err).partition(": ")
                    problems.append((int(where.split()[1]), reason))
                else:
                    para.entities += [(base + a, base + b, classes[typ], sent[a].line) for a, b, typ in spans]
            base += len(sent)


def refusal(name: str, problems: list[str], hint: str | None = None) -> InputError:
    """The error of an import refused for ``problems`` (one line each, the first
    :data:`MAX_PROBLEMS_SHOWN` shown, then a count)."""
    shown = problems[:MAX_PROBLEMS_SHOWN] + ([f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more"]
                                             if len(problems) > MAX_PROBLEMS_SHOWN else [])
    return InputError(f"{name}: not imported ({len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing written):\n  "
                      + "\n  ".join(shown), hint=hint)
