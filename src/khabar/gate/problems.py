"""The gate's problems and the registry of its check ids.

Every problem the gate reports is a :class:`Problem` whose ``check`` is one of :data:`CHECKS`:
a stable kebab-case id with the level that runs it and a one-line meaning (UD validator style).
A :class:`Problem` with an id that is not registered raises ``ValueError`` when it is made: a new
check is added here first, documented in README.md ("The gate's check ids") and given a test that
triggers it (``tests/test_gate_checks.py`` holds both to the registry).

Levels (a failed level stops the levels that need it):

1. files: required files, links, checksums, the card against the files, the parquet schemas;
2. records: every row against its schema and label lists;
3. integrity: spans and ids inside a row (:mod:`khabar.core.checks`), and across rows and splits;
4. release: reports, Croissant, the training configs re-derived, the ``load_dataset`` round trip.

Public API: :class:`Check`, :data:`CHECKS`, :data:`LEVELS`, :data:`STRUCTURAL`, :class:`Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Check", "CHECKS", "LEVELS", "STRUCTURAL", "Problem"]

#: level number -> name
LEVELS = {1: "files", 2: "records", 3: "integrity", 4: "release"}


@dataclass(frozen=True)
class Check:
    """One check id of the gate: ``id`` (kebab-case), ``level`` (a key of :data:`LEVELS`), ``meaning``
    (one line: what a problem of this id says is wrong)."""

    id: str
    level: int
    meaning: str


_REGISTRY = (
    # level 1: files
    Check("file-missing", 1, "a required file of the release (or the release folder itself) is missing"),
    Check("file-symlink", 1, "a symbolic link inside the release (releases hold plain files only)"),
    Check("checksum-mismatch", 1, "a file's SHA-256 differs from SHA256SUMS, or a SHA256SUMS line is malformed, "
                                  "repeated or points outside the release"),
    Check("checksum-file-missing", 1, "a file listed in SHA256SUMS is missing"),
    Check("checksum-unlisted", 1, "a file of the release is not listed in SHA256SUMS"),
    Check("card-yaml-invalid", 1, "the card's YAML front matter does not parse or lacks the expected structure"),
    Check("card-files-mismatch", 1, "the card's configs and the data files disagree (a declared file missing, a shard "
                                    "not declared, an unknown config or split, a training config with rows left out)"),
    Check("card-features-mismatch", 1, "the card's dataset_info features differ from those derived from schema/"),
    Check("card-count-mismatch", 1, "the card's num_examples of a split differs from the rows of its shard"),
    Check("parquet-unreadable", 1, "a parquet shard cannot be read"),
    Check("parquet-schema-mismatch", 1, "a shard's Arrow schema differs from the one derived from schema/"),
    # level 2: records
    Check("classlabel-out-of-range", 2, "a ClassLabel id outside its label list"),
    Check("label-unknown", 2, "a label outside its vocabulary in schema/labels.schema.json"),
    Check("schema-invalid", 2, "a row not valid against its JSON Schema (schema/release/<config>.schema.json)"),
    # level 3: integrity (the first nine are khabar.core.checks.CHECK_IDS)
    Check("offset-type", 3, "an offset that is not a plain integer (a string, float or bool)"),
    Check("span-out-of-bounds", 3, "a span outside its text (start < 0, end > length, start > end), or a token "
                                   "outside its sentence"),
    Check("span-empty", 3, "a span with start == end"),
    Check("span-text-mismatch", 3, "a span's text differs from text[start:end]"),
    Check("id-duplicate", 3, "an entity, claim or stance id used twice in a document, or a training row id twice "
                             "in a config"),
    Check("id-dangling", 3, "a reference (source, via, holder, evidence, a training row's doc_id) that names nothing"),
    Check("entity-duplicate", 3, "two entities with the same start, end and type"),
    Check("chain-invalid", 3, "a reporting chain (via) that holds its own source or an entity twice, or evidence "
                              "that names a claim twice"),
    Check("text-sha256-mismatch", 3, "text_sha256 is not the SHA-256 of text"),
    Check("doc-id-duplicate", 3, "a document id in two rows"),
    Check("split-mismatch", 3, "a row in another split than its document id assigns"),
    Check("split-leak-exact", 3, "the same text in two splits"),
    Check("split-leak-near", 3, "near-duplicate texts (estimated Jaccard) in two splits"),
    Check("tokens-misaligned", 3, "an entities row whose tokens, offsets and tag lists differ in length"),
    # level 4: release
    Check("report-invalid", 4, "a report under reports/ is unusable (index.jsonl, rows.json, build.json, stats.json, "
                               "agreement.json, baseline.json)"),
    Check("croissant-invalid", 4, "croissant.json is not valid Croissant, or a file hash in it differs from the file"),
    Check("croissant-records", 4, "mlcroissant cannot read a record set of croissant.json, or yields other records "
                                  "than the parquet rows (count per split, then each row; a sample on long files)"),
    Check("config-derivation-mismatch", 4, "a training config's rows differ from those re-derived from the documents rows"),
    Check("load-failed", 4, "datasets.load_dataset raises on a config of the release"),
    Check("load-mismatch", 4, "load_dataset does not give back exactly the rows the build wrote (count and digest)"),
)

#: check id -> :class:`Check`, in level order
CHECKS: dict[str, Check] = {c.id: c for c in _REGISTRY}

#: level-1 problems that stop the levels needing sound files (derivation, reports, load_dataset)
STRUCTURAL = frozenset({"file-missing", "checksum-file-missing", "card-yaml-invalid", "card-files-mismatch",
                        "parquet-unreadable", "parquet-schema-mismatch"})


@dataclass(frozen=True)
class Problem:
    """One problem found by the gate.

    Args:
        check: a registered check id (:data:`CHECKS`).
        file: the file, relative to the release folder (``README.md``, ``data/<config>/<split>-….parquet``).
        message: what is wrong, on one line.
        record: the document id of the row, when there is one.
        field: the JSON path inside the row (``$.entities[2].type``) or the card's YAML key.

    Raises:
        ValueError: ``check`` is not a registered check id (a programming error, not bad data).
    """

    check: str
    file: str
    message: str
    record: str | None = None   # document id
    field: str | None = None    # JSON path inside the record
    severity: str = "error"

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise ValueError(f"unknown check id {self.check!r}: register it in khabar.gate.problems.CHECKS")

    def line(self) -> str:
        """``error CHECK FILE [doc=ID] [FIELD]: MESSAGE`` on one line."""
        loc = self.file + (f" doc={self.record}" if self.record else "") + (f" {self.field}" if self.field else "")
        return f"{self.severity} {self.check} {loc}: {self.message}".replace("\n", " ")
