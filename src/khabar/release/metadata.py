"""Everything of a staged release besides its parquet shards and the agreement and baseline
reports: the dataset card (``README.md``), ``CHANGELOG.md``, ``DATASHEET.md``, the annotation
guidelines, ``reports/stats.json``, ``reports/preannotator.json``, ``reports/rows.json``,
``reports/build.json``, ``croissant.json`` and ``SHA256SUMS``.

Every text is stated from the release's own counts (:class:`~khabar.release.tally.Tally`) and the
project's files (annotator registry, guidelines, open conflicts); nothing carries a wall-clock time
(only ``SOURCE_DATE_EPOCH``), so a release rebuilds byte for byte.

Public API: :func:`write_metadata`, :func:`annotators_used`, :func:`open_conflicts`,
:func:`write_checksums`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from khabar import __version__
from khabar.core.errors import InputError
from khabar.core.jsonio import dumps_canonical, load_json, sha256_file
from khabar.core.project import CONFLICTS, GUIDELINES, PREANNOTATOR, Project
from khabar.core.schema import Schemas
from khabar.dataset.card import card_yaml, data_path, render_card
from khabar.dataset.croissant import dumps as croissant_dumps, make_croissant
from khabar.dataset.tables import splice_generated
from khabar.dataset.versioning import Diff
from khabar.release.changelog import changelog_entry, read_text, source_date
from khabar.release.shards import Shards
from khabar.release.tally import Tally
from khabar.dataset.layout import BUILD_INFO, CARD, CHANGELOG, CHECKSUMS, CROISSANT, DATASHEET, REPORTS, ROWS, STATS

__all__ = ["write_metadata", "annotators_used", "open_conflicts", "write_checksums"]


def _facts(stats: dict[str, Any]) -> dict[str, str]:
    """Croissant's Responsible-AI texts, stated from this release's counts."""
    prov = stats["provenance"]
    n = stats["documents"]
    mt = prov["machine_translated"]
    unknown_licence = prov["license_status"].get("unknown", 0)
    return {
        "collection": f"{n} news article(s), each received as a raw seed file kept byte-identical in seeds/ with a manifest of "
                      f"what is known of its provenance (publisher known for {prov['publisher_known']}, URL for "
                      f"{prov['url_known']}, publication date for {prov['date_known']}); {mt} machine-translated.",
        "biases": "Few sources and topics so far (see DATASHEET.md); machine-translated text carries translationese"
                  + (f" ({mt} of {n} documents)." if mt else "."),
        "limitations": f"{n} document(s); licence unknown for {unknown_licence}; "
                       + (f"gold annotation for {stats['annotated']}" if stats["annotated"] else "no gold annotation yet")
                       + ("; inter-annotator agreement over " + f"{stats['agreement']['agreement_compared']} document(s) (reports/agreement.json)."
                          if stats.get("agreement", {}).get("agreement_compared") else "; no agreement figures yet (no document has two or more annotators)."),
        "personal": "Names of public figures (heads of government, spokespeople) in their public role; no private individuals known.",
        "use_cases": "Research on Arabic named-entity recognition, attribution (claim, source, cue, reporting chain) and stance detection.",
        "annotation": ("Entities (Wojood types), PARC attributions with reporting chains, CheckThat! check-worthiness and SemEval-2016 "
                       "stances in annotation files per annotator, adjudicated into gold." if stats["annotated"] else
                       "No gold annotation in this release; the schema defines entities (Wojood types), PARC attributions with "
                       "reporting chains, CheckThat! check-worthiness and SemEval-2016 stances."),
        "preprocessing": "Decoded strictly (UTF-8, UTF-8 BOM, UTF-16 BOM, Windows-1256), NFC, \\n line ends, invisible bidi/format "
                         "controls removed; nothing else changed; every edit recorded with raw byte offsets; artifacts flagged, not removed.",
        "maintenance": "Versioned with SemVer for data (MAJOR: breaking schema change or documents removed; MINOR: documents or "
                       "annotations added; PATCH: corrections); every release validated before it ships; releases are immutable.",
        "social_impact": "Supports the study of how claims travel through reporting chains in Arabic news; misuse risk is low.",
        "machine_tools": "lingua-language-detector (language check); charset-normalizer (encoding detection).",
    }


def annotators_used(project: Project, schemas: Schemas, used: set[str]) -> dict[str, Any]:
    """The registry entries (``project.annotators_registry``) of the annotators merged into gold.

    Raises:
        InputError: the registry is invalid, or a gold annotator is not described in it.
    """
    if not used:
        return {}
    path = project.annotators_registry
    registry = load_json(path) if path.is_file() else {}
    problems = schemas.problems("annotators", registry)
    if problems:
        raise InputError("; ".join(f"{path}: {p.path[2:] or '$'}: {p.message}" for p in problems))
    missing = sorted(used - set(registry))
    if missing:
        raise InputError(f"{path}: annotator(s) {', '.join(missing)} of gold annotations are not described",
                         hint="add each pseudonymous id with its kind (human, language-model, rule-based) and whether a human reviewed its work")
    return {a: registry[a] for a in sorted(used)}


def _review_words(info: dict[str, Any]) -> str:
    """How the card states ``reviewed_by_human`` of an annotator registry entry."""
    if info["kind"] == "human":  # a human's work: reviewed means by another person
        return "reviewed by another person" if info["reviewed_by_human"] else "**not reviewed** by another person"
    return "reviewed by a human" if info["reviewed_by_human"] else "**not reviewed** by a human"


def open_conflicts(project: Project) -> list[str]:
    """Documents with a ``project.conflicts(doc)`` file (adjudication not finished), sorted."""
    return sorted(p.name for p in project.annotations.glob("kb-*") if project.conflicts(p.name).exists())


_ORIGIN_WORDS = {"adjudication": "adjudicated from two or more annotators' files (`khabar adjudicate`: the items a majority "
                                  "agrees on; the rest settled in a Label Studio review task)",
                 "accepted": "accepted from a single annotator's file (`khabar accept`)",
                 "manual": "written by hand", "label-studio": "pulled from Label Studio as they are",
                 "import": "imported from another corpus", "preannotator": "a pre-annotator's output"}


def _origin_note(origins: dict[str, int], registry: dict[str, Any] | None) -> str:
    """How the gold annotations were made (by ``origin.kind``), counted apart, and what agreement
    between language-model annotators does and does not show."""
    if not origins:
        return ""
    text = "\n\nHow the gold was made: " + "; ".join(f"{n} {_ORIGIN_WORDS.get(k, k)}" for k, n in sorted(origins.items(), key=lambda kv: -kv[1])) + "."
    kinds = {info["kind"] for info in (registry or {}).values()}
    if kinds == {"language-model"}:
        text += (" Every annotator is an instance of a language-model assistant working from the same guidelines and "
                 "pre-annotations, and no person reviewed their work: the agreement figures measure consistency between such "
                 "instances and overstate what independent human annotators would reach.")
    return text


def _annotation_note(project: Project, tally: Tally, registry: dict[str, Any] | None) -> str:
    """The card's paragraph on who annotated, under which guidelines, and what is unfinished."""
    stats, prov_counts = tally.stats, tally.prov
    annotated = stats["annotated"]
    who = ", ".join(f"`{a}`" for a in sorted(prov_counts["annotators"]))
    versions = ", ".join(f"{v} ({n})" for v, n in sorted(prov_counts["guidelines"].items()))
    note = ("No document has a gold annotation yet: the entity, claim and stance columns are empty lists in this release, "
            "and there are no agreement figures."
            if not annotated else f"{annotated} of {stats['documents']} document(s) carry a gold annotation, made by "
            f"{len(prov_counts['annotators'])} pseudonymous annotator(s) ({who}) following `annotations/{GUIDELINES}` "
            f"(versions: {versions}); `annotation.annotators` names them per document. "
            + ("Every annotated document has a single annotator so far, so there is no adjudication between annotators "
               "and no agreement figure." if len(prov_counts["annotators"]) <= 1 else "")
            + "".join(f"\n\n- `{a}`: {info['kind']}, {_review_words(info)}. "
                      f"{info['description']}" for a, info in sorted((registry or {}).items())))
    note += _origin_note(prov_counts["gold_origin"], registry)
    conflicts = open_conflicts(project)
    if conflicts:  # gold of these documents holds only the agreed items
        note += (f"\n\n**Adjudication not finished** for {len(conflicts)} document(s) ({', '.join(conflicts[:5])}"
                 f"{', …' if len(conflicts) > 5 else ''}): their gold holds only the items the annotators agree on; the rest "
                 f"waits in `annotations/<doc_id>/{CONFLICTS}` (`khabar studio push-review`).")
    return note


def _full_stats(version: str, tally: Tally, counts: dict[str, int], note: str, pre: dict[str, Any] | None) -> dict[str, Any]:
    """``reports/stats.json``: the counts the card, datasheet and Croissant state."""
    stats, prov_counts = tally.stats, tally.prov
    known = prov_counts["known"]
    return {"version": version, "documents": stats["documents"], "annotated": stats["annotated"],
            "characters": stats["characters"], "flags": stats["flags"], "entities": stats["entities"],
            "claims": stats["claims"], "stances": stats["stances"], "splits": counts,
            "entity_types": dict(sorted(tally.types.items())), "first_split": next(iter(counts)), "annotation_note": note,
            "flag_kinds": dict(sorted(prov_counts["flag_kinds"].items())),
            "provenance": {"license_status": dict(sorted(prov_counts["license_status"].items())),
                           "licenses": dict(sorted(prov_counts["license"].items())),
                           "machine_translated": known["machine_translated"],
                           "translated_from": dict(sorted(prov_counts["translated_from"].items())),
                           "publisher_known": known["publisher"], "url_known": known["url"],
                           "date_known": known["published_date"],
                           "per_document": [list(t) for t in tally.licences] if len(tally.licences) == stats["documents"] else None},
            "gold_origin": dict(sorted(prov_counts["gold_origin"].items())),
            "configs": stats["configs"], "agreement": stats["agreement"],
            **({"preannotator": pre} if pre else {})}


def _write_texts(project: Project, schemas: Schemas, staging: Path, card: str, entry: str,
                 full_stats: dict[str, Any]) -> None:
    """README.md (the card), CHANGELOG.md, DATASHEET.md and the guidelines of the staged release."""
    (staging / CARD).write_text(card, encoding="utf-8")
    (staging / CHANGELOG).write_text("# Changelog of this release\n\n" + entry[1:], encoding="utf-8")
    try:
        sheet = splice_generated(read_text(project.datasheet), schemas, full_stats)
    except ValueError as err:
        raise InputError(f"{project.datasheet}: {err}", hint="keep the BEGIN/END GENERATED marker lines in DATASHEET.md") from None
    (staging / DATASHEET).write_text(sheet, encoding="utf-8")
    if full_stats["annotated"] and project.guidelines.is_file():  # the guidelines travel with the annotations they define
        (staging / GUIDELINES).write_text(read_text(project.guidelines), encoding="utf-8")


def write_metadata(project: Project, schemas: Schemas, staging: Path, version: str, features: dict[str, Any], shards: Shards,
                   tally: Tally, previous: str | None, diff: Diff, pre_report: dict[str, Any] | None = None,
                   registry: dict[str, Any] | None = None, sections: Sequence[str] = (),
                   pipeline: dict[str, Any] | None = None) -> None:
    """Card, changelog, datasheet, reports, Croissant and checksums of a staged release.

    Args:
        features: config -> Features (every config; a config with no rows is left out of the
            card, Croissant and rows.json, but its features stay in build.json).
        tally: the counts of the documents written, with ``stats["configs"]`` and ``stats["agreement"]``.
        pre_report: ``reports/preannotator.json``
            (:func:`khabar.annotate.evaluate.preannotator_report`), or None (no file).
        registry: the annotator registry entries of the gold annotators.
        sections: extra Markdown sections for the card (each starting with ``## ``), placed
            after the training configs: the hook for agreement and baseline reports.
        pipeline: what made the rows when not the local build (``{"engine", "executor", "tasks"}``
            of :mod:`khabar.release.pipeline`), recorded in ``reports/build.json`` as ``pipeline``.

    Raises:
        InputError: DATASHEET.md or the guidelines are not UTF-8, or DATASHEET.md lacks its
            generated-section markers.
    """
    rows = shards.rows()
    declared = {c: f for c, f in features.items() if rows[c]}  # load_dataset refuses a config without data files
    sizes = {c: {s: (staging / data_path(c, s)).stat().st_size for s in rows[c]} for c in declared}
    pre = {k: v for k, v in pre_report.items() if k not in ("tool", "version")} if pre_report else None
    full_stats = _full_stats(version, tally, rows["documents"], _annotation_note(project, tally, registry), pre)
    data = card_yaml(version, declared, {c: rows[c] for c in declared}, sizes, full_stats)
    entry = changelog_entry(version, previous, diff)
    card = render_card(schemas, version, data, full_stats, entry, sections)
    _write_texts(project, schemas, staging, card, entry, full_stats)
    reports = staging / REPORTS
    (reports / STATS).write_text(dumps_canonical(full_stats), encoding="utf-8")
    if pre_report is not None:
        (reports / PREANNOTATOR).write_text(dumps_canonical(pre_report), encoding="utf-8")
    (reports / ROWS).write_text(dumps_canonical(shards.report()), encoding="utf-8")
    build_info = {"version": version, "previous": previous, "bump": diff.bump(), "toolkit": f"khabar {__version__}",
                  "features": {c: f.to_dict() for c, f in features.items()}, **({"pipeline": pipeline} if pipeline else {})}
    (reports / BUILD_INFO).write_text(dumps_canonical(build_info), encoding="utf-8")
    croissant = make_croissant(staging, version, declared, {c: [data_path(c, s) for s in rows[c]] for c in declared},
                               _facts(full_stats), source_date())
    (staging / CROISSANT).write_text(croissant_dumps(croissant), encoding="utf-8")
    write_checksums(staging)


def write_checksums(release: Path) -> None:
    """Write ``SHA256SUMS`` (``sha256sum`` format, sorted paths) for every file but itself."""
    lines = []
    for p in sorted(release.rglob("*")):
        if p.is_file() and p.name != CHECKSUMS:
            rel = p.relative_to(release).as_posix()
            lines.append(f"{sha256_file(p)}  {rel}")
    (release / CHECKSUMS).write_text("\n".join(lines) + "\n", encoding="utf-8")
