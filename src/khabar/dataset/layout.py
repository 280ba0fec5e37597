"""The files of a release folder, ``releases/<version>/``, named once for the build and the gate.

Public API: the names below (paths relative to the release folder; the report files lie in
:data:`REPORTS`). The project's own files are named by :class:`khabar.core.project.Project`.
"""

from __future__ import annotations

__all__ = ["CARD", "DATASHEET", "CHANGELOG", "GUIDELINES", "CHECKSUMS", "CROISSANT", "DATA", "REPORTS",
           "INDEX", "STATS", "BUILD_INFO", "ROWS", "AGREEMENT", "BASELINE", "PREANNOTATOR", "MODEL_REPORT", "LABEL_PLOT", "LENGTH_PLOT"]

CARD = "README.md"              #: the dataset card (YAML: configs, dataset_info)
DATASHEET = "DATASHEET.md"      #: the datasheet (Gebru et al.)
CHANGELOG = "CHANGELOG.md"      #: this release's changelog entry
GUIDELINES = "GUIDELINES.md"    #: a copy of annotations/GUIDELINES.md
CHECKSUMS = "SHA256SUMS"        #: ``<sha256>  <path>`` of every other file
CROISSANT = "croissant.json"    #: Croissant metadata
DATA = "data"                   #: ``data/<config>/<split>-*.parquet``
REPORTS = "reports"             #: the folder of the report files below
INDEX = "index.jsonl"           #: one line per document: what ``khabar diff`` compares
STATS = "stats.json"            #: counts per layer, config and split
BUILD_INFO = "build.json"       #: version, previous version, bump, toolkit, features
ROWS = "rows.json"              #: rows and digests per config and split
AGREEMENT = "agreement.json"    #: inter-annotator agreement
BASELINE = "baseline.json"      #: the baselines' figures
LABEL_PLOT = "label-distribution.png"  #: entity types per split and layer, stance labels per split
LENGTH_PLOT = "document-lengths.png"   #: document lengths per split
MODEL_REPORT = "pretrained.json"  #: the trained pre-annotator's figures on the test split (khabar train)
PREANNOTATOR = "preannotator.json"  #: the pre-annotator's figures against gold
