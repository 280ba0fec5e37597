"""The dataset card (``README.md``) of a release, its YAML made with ``huggingface_hub`` and
``datasets`` metadata classes so that ``load_dataset`` reads it as the Hub would."""

from __future__ import annotations

from typing import Any

from datasets import Features
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from .schema import Schemas
from .tables import generated_section

__all__ = ["card_yaml", "render_card", "data_path"]


def data_path(config: str, split: str) -> str:
    """Relative path of the one parquet shard of ``config``/``split`` in a release."""
    return f"data/{config}/{split}-00000-of-00001.parquet"


def card_yaml(version: str, features: dict[str, Features], counts: dict[str, dict[str, int]],
              sizes: dict[str, dict[str, int]]) -> DatasetCardData:
    """Card metadata: configs with data_files per split, dataset_info features, licence, language…

    Args:
        features: config -> Features.
        counts: config -> split -> number of rows.
        sizes: config -> split -> parquet bytes.
    """
    data = DatasetCardData(
        pretty_name="Khabar: annotated Arabic news",
        language=["ar"],
        license="unknown",
        multilinguality="monolingual",
        size_categories=["n<1K"] if sum(counts["documents"].values()) < 1000 else ["1K<n<10K"],
        source_datasets=["original"],
        task_categories=["token-classification", "text-classification"],
        task_ids=["named-entity-recognition", "fact-checking"],
        tags=["arabic", "news", "attribution", "claims", "stance", "machine-translated"],
        version=version,
    )
    MetadataConfigs({
        config: {"data_files": [{"split": s, "path": data_path(config, s)} for s in counts[config]],
                 **({"default": True} if config == "documents" else {})}
        for config in features
    }).to_dataset_card_data(data)
    infos = {}
    for config, feats in features.items():
        splits = SplitDict()
        for split, n in counts[config].items():
            splits.add(SplitInfo(name=split, num_bytes=sizes[config][split], num_examples=n, dataset_name="khabar"))
        infos[config] = DatasetInfo(features=feats, splits=splits, download_size=sum(sizes[config].values()),
                                    dataset_size=sum(sizes[config].values()))
    DatasetInfosDict(infos).to_dataset_card_data(data)
    return data


def render_card(schemas: Schemas, version: str, data: DatasetCardData, stats: dict[str, Any], changelog: str) -> str:
    """The whole card: YAML header and a body for readers (load example, fields, labels, stats)."""
    docs = stats["documents"]
    split_lines = "\n".join(f"| {s} | {n} |" for s, n in stats["splits"].items())
    body = f"""
# Khabar {version}: annotated Arabic news

Khabar (خبر, "a report") is a corpus of Arabic news articles annotated with named entities
(Wojood types), attributed claims (PARC: source, cue, content, and the reporting chain through
which a claim reached the article), check-worthiness (CheckThat!) and stances (SemEval-2016).
Every release is built from `corpus/` and the adjudicated annotations by `khabar build`, and is
shipped only after `khabar validate` passed.

## Load it

```python
from datasets import load_dataset

ds = load_dataset("releases/{version}")          # the default config, `documents`
row = ds["{stats['first_split']}"][0]
print(row["title"])
span = row["sentences"][0]
print(row["text"][span["start"]:span["end"]])    # offsets are code points, [start, end)
```

## Contents

| | |
|---|---|
| documents | {docs} |
| documents with gold annotation | {stats['annotated']} |
| entities / claims / stances | {stats['entities']} / {stats['claims']} / {stats['stances']} |
| flagged artifacts | {stats['flags']} |
| characters | {stats['characters']} |

| split | documents |
|---|---|
{split_lines}

Splits are a function of the document id (SHA-256 of `khabar-split:<id>`, mod 100: below 80
train, below 90 validation, else test), so a document never moves between releases.
A split with no documents yet is left out (`load_dataset` refuses empty splits).

## Annotation

{stats['annotation_note']}

## Provenance and limitations

All documents so far come from one seed file received without publisher, URL, date or licence:
the text's **licence is unknown** (`license: unknown`); do not redistribute it until cleared.
The article is an Arabic **machine translation from Persian** (a Persian month name and
transliteration slips are flagged as `translation-artifact`), cites Iranian and Arab outlets
(Mehr News Agency, Al Jazeera) and US sources, and uses partisan wording. Suspected artifacts
(a markup remnant, a stray separator, unbalanced quotes) are flagged, not removed. See
`DATASHEET.md` in this folder for the full datasheet.

{generated_section(schemas)}

## Files

- `data/<config>/<split>-00000-of-00001.parquet`: the rows (zstd), one explicit Arrow schema per config;
- `croissant.json`: Croissant 1.0 metadata with its responsible-AI fields;
- `DATASHEET.md`: the datasheet (Gebru et al.);
- `reports/stats.json`, `reports/index.jsonl` (one line per document: id, split, hashes), `reports/rows.json` (row digests that `khabar validate` checks after `load_dataset`);
- `SHA256SUMS`: a checksum for every other file.

## Changes

{changelog}
"""
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n{body}").content
