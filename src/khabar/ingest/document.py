"""Seed bytes -> corpus document (a pure function; no files are touched here).

Public API: :func:`make_document` (and :func:`text_sha256`, re-exported from :mod:`khabar.core.ids`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from khabar.ingest import segment
from khabar.ingest.decode import Decoded, decode_seed
from khabar.core.errors import InputError
from khabar.core.ids import text_sha256
from khabar.ingest.flags import find_flags
from khabar.ingest.langcheck import MIN_CONFIDENCE, detect_language
from khabar.ingest.normalize import Edit, normalize
from khabar.ingest.rawmap import check_raw_map

__all__ = ["make_document", "headline", "text_sha256"]


_TAG = re.compile(r"<\s*/?\s*(html|head|body|p|div|span|br|a|table|tr|td|li|ul|ol|h[1-6]|script|style|meta|img|article|section)"
                  r"\b[^<>]{0,500}>|<!DOCTYPE\b|&(?:nbsp|amp|quot|lt|gt|#\d{2,5});", re.IGNORECASE)


def _markup(text: str) -> str | None:
    """What shows that ``text`` is HTML (the first tag or entity and its line, and how many), or
    None. Two or more tags or entities are needed: one ``<br>`` in prose is not a page."""
    found = list(_TAG.finditer(text))
    if len(found) < 2:
        return None
    first = found[0]
    line = text.count("\n", 0, first.start()) + 1
    return f"{first.group()[:40]!r} at line {line}, {len(found)} tags or entities"


def headline(paras: list[tuple[int, int]], sents: list[tuple[int, int]]) -> tuple[int, int]:
    """The title's ``[start, end)``: the first paragraph (a news seed's headline line); when the
    article is one paragraph of several sentences (a one-line article), its first sentence, so
    that the title is not the whole text."""
    if len(paras) == 1:
        inside = [s for s in sents if paras[0][0] <= s[0] and s[1] <= paras[0][1]]
        if len(inside) > 1:
            return inside[0]
    return paras[0]


def make_document(raw: bytes, seed_name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Build the corpus document of one seed.

    Args:
        raw: the seed file's bytes, as received.
        seed_name: its file name (recorded in provenance; used in messages).
        entry: its seeds-manifest entry (id, revision, declared encoding, provenance facts).

    Returns:
        A dict valid against ``schema/document.schema.json``; offsets are code points,
        half-open, into its ``text``; ``edits`` map the text back to raw byte offsets.

    Raises:
        InputError: the bytes cannot be decoded (see :func:`khabar.ingest.decode.decode_seed`), the
            text is blank, or it is not Arabic (names the detected language and confidence); the
            edits do not map the title and flags back to the raw bytes
            (:func:`khabar.ingest.rawmap.check_raw_map`: a bug, never expected).
    """
    dec = decode_seed(raw, seed_name, entry.get("declared_encoding"))
    markup = _markup(dec.text)
    if markup:
        raise InputError(f"{seed_name}: looks like HTML or other markup ({markup}); a seed is the article's plain text",
                         hint="save the article as plain text (one paragraph per line), e.g. with a browser's reader view "
                              "or `lynx -dump -nolist page.html`, and put that in seeds/")
    text, edits = normalize(dec.text)
    if not text.strip():
        raise InputError(f"{seed_name}: empty after cleaning (only invisible characters)")
    lang = detect_language(text)
    if lang["lang"] != "ar" or lang["confidence"] < MIN_CONFIDENCE or lang["arabic_script_ratio"] < 0.5:
        raise InputError(
            f"{seed_name}: not Arabic: detected {lang['lang'] or 'no language'} (confidence {lang['confidence']}, "
            f"Arabic-script letters {lang['arabic_script_ratio']:.0%})",
            hint="Khabar is an Arabic corpus; remove the file from seeds/")
    if entry.get("language") not in (None, "ar"):
        raise InputError(f"{seed_name}: the manifest says language {entry['language']!r} but the text is Arabic")
    paras = segment.paragraphs(text)
    sents = segment.sentences(text, paras)
    t0, t1 = headline(paras, sents)
    doc = {
        "schema_version": "1.0",
        "id": entry["doc_id"],
        "revision": entry["revision"],
        "text": text,
        "text_sha256": text_sha256(text),
        "title": text[t0:t1],
        "title_span": {"start": t0, "end": t1},
        "lang": "ar",
        "lang_check": {"detector": lang["detector"], "confidence": lang["confidence"],
                       "arabic_script_ratio": lang["arabic_script_ratio"]},
        "paragraphs": [{"start": a, "end": b} for a, b in paras],
        "sentences": [{"start": a, "end": b} for a, b in sents],
        "flags": find_flags(text, paras, entry.get("translation_evidence", [])),
        "edits": _raw_edits(dec, text, edits),
        "provenance": {
            "seed_file": seed_name,
            "raw_sha256": hashlib.sha256(raw).hexdigest(),
            "raw_bytes": len(raw),
            "encoding": dec.encoding,
            "encoding_source": dec.encoding_source,
            "bom_bytes": dec.bom_bytes,
            "publisher": entry.get("publisher"),
            "url": entry.get("url"),
            "published_date": entry.get("published_date"),
            "translated_from": entry.get("translated_from"),
            "machine_translated": entry.get("machine_translated"),
            "license": entry.get("license"),
            "license_status": entry.get("license_status", "unknown"),
            "cited_sources": [c["name"] for c in entry.get("cited_sources", [])],
        },
    }
    check_raw_map(doc, raw, seed_name)
    return doc


def _raw_edits(dec: Decoded, text: str, edits: list[Edit]) -> list[dict[str, Any]]:
    """The document's ``edits``: each cleaning edit (decoded seed -> ``text``) with the byte range
    ``[raw_start, raw_end)`` of the raw seed it replaced (the BOM counted), the code-point range
    ``[start, end)`` of ``text`` it gave, and the ``removed`` and ``inserted`` strings."""
    enc = dec.encoding.replace("-sig", "")
    out = []
    raw_pos, dec_pos = dec.bom_bytes, 0
    for e in edits:
        raw_pos += len(dec.text[dec_pos:e.src_start].encode(enc))
        raw_start = raw_pos
        raw_pos += len(dec.text[e.src_start:e.src_end].encode(enc))
        dec_pos = e.src_end
        out.append({"rule": e.rule, "raw_start": raw_start, "raw_end": raw_pos, "start": e.dst_start,
                    "end": e.dst_end, "removed": dec.text[e.src_start:e.src_end], "inserted": text[e.dst_start:e.dst_end]})
    return out
