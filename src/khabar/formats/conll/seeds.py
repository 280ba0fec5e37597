"""The seeds and documents of a CoNLL import, what it keeps of an annotation file it replaces,
and its all-or-nothing commit (see :mod:`khabar.formats.conll.importer`).

A :class:`Unit` is what becomes one document: paragraphs of the file, their seed (tokens joined
by single spaces, one paragraph per line) and the document, either found (a seed with the same
bytes is in the manifest and its document in ``corpus/``) or made in memory with
:func:`khabar.ingest.document.make_document` exactly as ingest will make it, so that every check runs
before anything is written. :func:`keep_claims` carries the claims and stances of a replaced
annotation file over to the imported entities. :func:`commit` writes the new seeds, runs ingest,
writes the annotation files and the registry, and on any failure puts back what it changed.

Public API: :class:`Unit`, :func:`resolve_seeds`, :func:`keep_claims`, :func:`commit`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from khabar.formats.conll.reader import Paragraph
from khabar.ingest.document import make_document
from khabar.core.errors import InputError
from khabar.ingest.run import MIN_WORDS, IngestReport, ingest
from khabar.core.jsonio import atomic_write_bytes, dumps_canonical, load_json
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.ingest.seeds import iter_manifest, new_entry, sha256_hex

__all__ = ["Unit", "resolve_seeds", "keep_claims", "commit"]

_WORDS = re.compile(r"\w+")


@dataclass
class Unit:
    """Paragraphs that become one document; ``number`` is the paragraph number with ``--per paragraph``."""

    paragraphs: list[Paragraph]
    number: int | None = None
    seed: str | None = None
    raw: bytes = b""
    doc: dict[str, Any] | None = None
    write_seed: bool = False
    ingest: bool = False

    @property
    def lines(self) -> str:
        toks = [t for p in self.paragraphs for t in p.tokens]
        return f"lines {toks[0].line}-{self.paragraphs[-1].mark_line or toks[-1].line}"


def resolve_seeds(project: Project, schemas: Schemas, units: list[Unit], problems: list[str],
                  hints: list[str] | None = None) -> list[tuple[Unit, str]]:
    """Fill each unit's seed bytes and document (found, or as ingest will make it).

    Returns:
        The units that cannot be corpus documents, with the reason (not Arabic, fewer than
        :data:`khabar.ingest.run.MIN_WORDS` words, the same text as another unit). A seed name taken
        by other content, or a bad manifest line, is appended to ``problems``, and what to do
        about a taken seed name to ``hints``.
    """
    hints = [] if hints is None else hints
    for u in units:
        u.raw = ("\n".join(" ".join(t.text for t in p.tokens) for p in u.paragraphs) + "\n").encode("utf-8")
    shas = {sha256_hex(u.raw) for u in units}
    names = {u.seed for u in units}
    by_sha: dict[str, dict[str, Any]] = {}
    by_name: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for entry in iter_manifest(project.manifest, schemas, errors):
        if entry["raw_sha256"] in shas:
            by_sha[entry["raw_sha256"]] = entry
        if entry["seed_file"] in names:
            by_name[entry["seed_file"]] = entry
    problems.extend(errors)
    unfit: list[tuple[Unit, str]] = []
    texts: dict[str, Unit] = {}
    for u in units:
        assert u.seed is not None
        sha = sha256_hex(u.raw)
        seed = project.seeds / u.seed
        entry = by_sha.get(sha)
        if entry is None and u.seed in by_name:
            doc_id = by_name[u.seed]["doc_id"]
            problems.append(f"{seed}: this seed name was ingested from other content (document {doc_id})")
            hints.append(f"to import the file as a new document, rename it; if it corrects the text of {doc_id}, put the "
                         f"corrected text in {seed}, run `khabar ingest --accept-edit {u.seed}`, then import with --doc {doc_id}")
            continue
        if entry is None and seed.exists() and seed.read_bytes() != u.raw:
            problems.append(f"{seed}: exists with other content than this import would write")
            hints.append(f"rename the file to import it under another seed name, or move {seed} away if it is not wanted")
            continue
        if entry is not None:
            doc_path = project.corpus_file(entry["doc_id"])
            if doc_path.is_file():
                u.doc = load_json(doc_path)
                continue
            u.seed = entry["seed_file"]
        else:
            entry = new_entry(sha, None, seed_file=u.seed)
            u.write_seed = not seed.exists()
        u.ingest = True
        try:
            u.doc = make_document(u.raw, u.seed, entry)
        except InputError as err:
            unfit.append((u, str(err).removeprefix(f"{u.seed}: ")))
            continue
        words = len(_WORDS.findall(u.doc["text"]))
        if words < MIN_WORDS:
            unfit.append((u, f"too short for a news article ({words} word{'s' if words != 1 else ''}; at least {MIN_WORDS})"))
        elif u.doc["text_sha256"] in texts:
            unfit.append((u, f"the same text as {texts[u.doc['text_sha256']].lines}"))
        else:
            texts[u.doc["text_sha256"]] = u
    return unfit


def keep_claims(old: Any, new: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``new`` (an imported annotation: entities only) with the claims and stances of ``old``, the
    parsed annotation file it replaces.

    A claim is kept when its ``source`` and every ``via`` entity is among ``new``'s entities with
    the same ``start``, ``end`` and ``type`` (ids are then rewritten to ``new``'s); a stance when
    its ``holder`` is, and every claim of its ``evidence`` is kept. When something is kept, the
    result also keeps ``old``'s ``guidelines_version`` and adds ``old``'s ``origin.sources`` to its
    own.

    Returns:
        ``(annotation, None)`` when nothing would be lost (``new`` itself when ``old`` has no
        claim or stance), else ``(new, reason)``: what would be lost, with examples.
    """
    claims, stances = (old.get("claims") or [], old.get("stances") or []) if isinstance(old, dict) else ([], [])
    if not claims and not stances:
        return new, None
    held = f"holds {len(claims)} claim(s) and {len(stances)} stance(s); CoNLL carries entities only"
    if old.get("text_sha256") != new["text_sha256"]:
        return new, f"{held}, and these were made on another text of the document (the file is stale): all would be lost"
    try:
        key = {e["id"]: (e["start"], e["end"], e["type"], e["text"]) for e in old.get("entities") or []}
        now: dict[tuple[Any, ...], str] = {}
        for e in new["entities"]:
            now.setdefault((e["start"], e["end"], e["type"], e["text"]), e["id"])
        lost: list[str] = []

        def ref(eid: str, role: str, item: str) -> str | None:
            if eid in key and key[eid] in now:
                return now[key[eid]]
            s, e, typ, text = key.get(eid, (None, None, None, None))
            lost.append(f"{item}: {role} {eid} " + (f"{typ} {text!r} [{s}, {e})" if typ else "(no such entity)"))
            return None

        kept_claims = []
        for c in claims:
            n = len(lost)
            source = ref(c["source"], "source", f"claim {c['id']}") if c["source"] is not None else None
            via = [ref(v, "via", f"claim {c['id']}") for v in c["via"]]
            if len(lost) == n:
                kept_claims.append({**c, "source": source, "via": via})
            else:
                del lost[n + 1:]  # one reason per claim
        kept = {c["id"] for c in kept_claims}
        kept_stances = []
        for st in stances:
            gone = [c for c in st["evidence"] if c not in kept]
            if gone:
                lost.append(f"stance {st['id']}: evidence claim {gone[0]} is lost")
            elif (holder := ref(st["holder"], "holder", f"stance {st['id']}")) is not None:
                kept_stances.append({**st, "holder": holder})
    except (KeyError, TypeError, AttributeError):
        return new, f"{held}, and they are not readable as Khabar claims and stances: all would be lost"
    if lost:
        nc, ns = len(claims) - len(kept_claims), len(stances) - len(kept_stances)
        return new, (f"{held} (a claim or stance is kept when every entity it refers to is imported with the same span "
                     f"and type): {nc} of {len(claims)} claims and {ns} of {len(stances)} stances would be lost: "
                     + "; ".join(lost[:3]) + (f"; … and {len(lost) - 3} more" if len(lost) > 3 else ""))
    origin = dict(new["origin"])
    sources = list(origin.get("sources") or [])
    sources += [x for x in (old.get("origin") or {}).get("sources") or [] if x not in sources]
    if sources:
        origin["sources"] = sources
    return {**new, "guidelines_version": old.get("guidelines_version"), "origin": origin,
            "claims": kept_claims, "stances": kept_stances}, None


class _Journal:
    """What the commit changed, so that a failure can put it back."""

    def __init__(self) -> None:
        self.files: list[tuple[Path, bytes | None]] = []

    def write(self, path: Path, data: bytes) -> None:
        self.files.append((path, path.read_bytes() if path.exists() else None))
        atomic_write_bytes(path, data)

    def undo(self) -> None:
        """Put every file back, best effort: one that cannot be restored does not stop the others."""
        for path, old in reversed(self.files):
            try:
                if old is None:
                    path.unlink(missing_ok=True)
                    if path.parent.name.startswith("kb-") and not any(path.parent.iterdir()):
                        path.parent.rmdir()
                elif not path.exists() or path.read_bytes() != old:
                    atomic_write_bytes(path, old)
            except OSError:
                continue


def commit(project: Project, units: list[Unit], planned: list[tuple[Path, bytes]], registry: dict[str, Any] | None,
           progress: bool) -> tuple[list[str], IngestReport | None]:
    """Write the units' new seeds, ingest (when a document is missing), then ``planned``
    ``(path, bytes)`` and the annotator ``registry`` (when not None).

    Returns:
        ``(seeds added, ingest report or None)``.

    Raises:
        InputError: ingest refused (its message; nothing changed); anything else raised while
            writing, after putting back the seeds, corpus documents, manifest and files.
    """
    added: list[str] = []
    ingested: IngestReport | None = None
    journal = _Journal()
    backup = None
    before: set[str] = set()
    try:
        if any(u.ingest for u in units):
            for u in units:
                if u.write_seed:
                    journal.write(project.seeds / u.seed, u.raw)
                    added.append(u.seed)
            before = set(os.listdir(project.corpus)) if project.corpus.is_dir() else set()
            if project.manifest.exists():
                fd, backup = tempfile.mkstemp(prefix="khabar-manifest-")
                os.close(fd)
                shutil.copyfile(project.manifest, backup)
            try:
                ingested = ingest(project, progress=progress)
            except InputError as err:
                raise InputError(str(err), hint=err.hint or "if the article is in the corpus already, import with --doc DOC_ID") from None
            for u in units:
                assert u.doc is not None
                now = load_json(project.corpus_file(u.doc["id"]))
                if now["text_sha256"] != u.doc["text_sha256"]:
                    raise InputError(f"{project.corpus_file(u.doc['id'])}: ingest made another text than expected")
        for target, payload in planned:
            journal.write(target, payload)
        if registry is not None:
            journal.write(project.annotators_registry, dumps_canonical(registry).encode("utf-8"))
    except BaseException:
        journal.undo()
        if ingested is not None:
            for name in sorted(set(os.listdir(project.corpus)) - before):
                (project.corpus / name).unlink(missing_ok=True)
            if backup is not None:
                tmp = project.manifest.with_name(".manifest.jsonl.restore")
                shutil.copyfile(backup, tmp)
                os.replace(tmp, project.manifest)
            else:
                project.manifest.unlink(missing_ok=True)
        raise
    finally:
        if backup is not None:
            os.unlink(backup)
    return added, ingested
