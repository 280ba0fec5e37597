"""The main job (``khabar release``): seeds -> corpus -> a validated release -> loaded back with
``load_dataset``.

Public API: :func:`run_release`, :class:`ReleaseResult`, :func:`load_summary`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from khabar.core.errors import InputError, KhabarError
from khabar.core.jsonio import load_json
from khabar.core.project import Project
from khabar.core.schema import Schemas
from khabar.dataset.versioning import next_version
from khabar.gate.validate import validate_release
from khabar.ingest.run import IngestReport, ingest
from khabar.release.build import build
from khabar.release.plan import diff_against_latest, plan
from khabar.dataset.layout import INDEX

__all__ = ["run_release", "ReleaseResult", "load_summary"]


@dataclass
class ReleaseResult:
    """What the main job did: the ingest, the release (built now or the latest, unchanged) and what
    loading it back gave (:func:`load_summary`)."""

    ingest: IngestReport
    version: str
    path: Path
    built: bool          # False: the latest release already holds the current corpus
    bump: str
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)  # the build's (e.g. a pre-annotation not scored)


def load_summary(project: Project, release: Path) -> dict[str, Any]:
    """Load ``release`` with ``datasets.load_dataset`` and compare each row's text with the corpus.

    Returns:
        ``{"splits": {split: rows}, "features": [column names], "first": {id, title, chars,
        entities, claims, stances}, "texts_identical": int}``.

    Raises:
        KhabarError: a loaded row's text differs from its corpus document's text of record.
    """
    import datasets

    datasets.disable_progress_bars()
    dsd = datasets.load_dataset(str(release))
    same = 0
    first = None
    for split, ds in dsd.items():
        for row in ds:
            doc = load_json(project.corpus_file(row["id"]))
            if row["text"] != doc["text"]:
                raise KhabarError(f"{release}: {split} row {row['id']}: loaded text differs from corpus/{row['id']}.json")
            same += 1
            if first is None:
                first = {"id": row["id"], "split": split, "title": row["title"], "chars": len(row["text"]),
                         "entities": len(row["entities"]), "claims": len(row["claims"]), "stances": len(row["stances"])}
    return {"splits": {k: v.num_rows for k, v in dsd.items()}, "features": list(next(iter(dsd.values())).features),
            "first": first, "texts_identical": same}


def run_release(project: Project, progress: bool = True) -> ReleaseResult:
    """Ingest the seeds, build the next release if anything changed (version bumped by the SemVer
    rule), run the gate on it, and load it back.

    Raises:
        InputError, StaleAnnotationError, VersionError: from ingest and build.
        KhabarError: the release fails the gate or does not load back identically.
    """
    schemas = Schemas(project.schema)
    report = ingest(project, progress=progress, schemas=schemas)
    with tempfile.TemporaryDirectory(prefix="khabar-plan-") as tmp:
        index = Path(tmp) / INDEX
        errors = plan(project, index, schemas)
        if errors:
            raise InputError("the corpus cannot be released:\n  " + "\n  ".join(errors))
        previous, diff = diff_against_latest(project, index, schemas)
    bump = diff.bump()
    if previous is not None and bump == "none":
        path = project.release(previous)
        problems = validate_release(path, schemas=schemas, progress=progress)
        if problems:
            raise KhabarError(f"{path} fails the gate:\n  " + "\n  ".join(p.line() for p in problems))
        return ReleaseResult(report, previous, path, False, bump, load_summary(project, path))
    version = next_version(previous, bump)
    result = build(project, version, progress=progress, schemas=schemas)
    return ReleaseResult(report, version, result.path, True, bump, load_summary(project, result.path), result.warnings)
