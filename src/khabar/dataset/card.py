"""The dataset card (``README.md``) of a release, its YAML made with ``huggingface_hub`` and
``datasets`` metadata classes so that ``load_dataset`` reads it as the Hub would.

The body is assembled from sections: an overview (load example, contents, splits), annotation,
pre-annotator quality, training configs, extra sections (agreement, baseline), provenance, the
generated field and label tables, files, changes. Its bytes are part of a release: changing a
word here changes the next release's checksums.

Public API: :func:`card_yaml`, :func:`render_card`, :func:`training_section`, :func:`data_path`,
:func:`size_category`, :func:`card_license`.
"""

from __future__ import annotations

from typing import Any, Sequence

from datasets import Features
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from khabar.dataset.features import TRAINING_CONFIGS
from khabar.core.schema import Schemas
from khabar.dataset.tables import config_labels, fields_table, generated_section
from khabar.text.tokens import RULE

__all__ = ["card_yaml", "render_card", "training_section", "data_path", "size_category", "card_license"]


def data_path(config: str, split: str) -> str:
    """Relative path of the one parquet shard of ``config``/``split`` in a release."""
    return f"data/{config}/{split}-00000-of-00001.parquet"


_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
          (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"))


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` value for ``n`` rows."""
    return next((name for limit, name in _SIZES if n < limit), "n>1T")


def card_license(licenses: dict[str, int]) -> str:
    """The card's ``license``: the one licence every document has, ``unknown`` if any document's
    licence is unknown, else ``other`` (mixed licences, listed in the card body)."""
    if "unknown" in licenses or not licenses:
        return "unknown"
    return next(iter(licenses)) if len(licenses) == 1 else "other"


def card_yaml(version: str, features: dict[str, Features], counts: dict[str, dict[str, int]],
              sizes: dict[str, dict[str, int]], stats: dict[str, Any]) -> DatasetCardData:
    """Card metadata: configs with data_files per split, dataset_info features, licence, language…

    Args:
        features: config -> Features.
        counts: config -> split -> number of rows.
        sizes: config -> split -> parquet bytes.
        stats: the build's statistics (``reports/stats.json``): licence and translation counts.
    """
    tags = ["arabic", "news", "attribution", "claims", "stance"]
    if stats["provenance"]["machine_translated"]:
        tags.append("machine-translated")
    data = DatasetCardData(
        pretty_name="Khabar: annotated Arabic news",
        language=["ar"],
        license=card_license(stats["provenance"]["licenses"]),
        multilinguality="monolingual",
        size_categories=[size_category(sum(counts["documents"].values()))],
        source_datasets=["original"],
        task_categories=["token-classification", "text-classification"],
        task_ids=["named-entity-recognition", "fact-checking"],
        tags=tags,
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


def _provenance_text(stats: dict[str, Any]) -> str:
    prov, n = stats["provenance"], stats["documents"]
    lines = [f"- Every document comes from a raw seed file kept byte-identical; provenance is recorded per document "
             f"(`provenance` column), unknown values as null: publisher known for {prov['publisher_known']} of {n}, "
             f"URL for {prov['url_known']}, publication date for {prov['date_known']}."]
    unknown = prov["license_status"].get("unknown", 0)
    if unknown:
        lines.append(f"- **Licence unknown for {unknown} of {n} document(s)** (`license_status: unknown`): do not "
                     "redistribute their text until cleared.")
    lines.append("- Licences: " + ", ".join(f"`{k}` {v}" for k, v in prov["licenses"].items()) + ".")
    if any("CC BY" in k for k in prov["licenses"]):
        lines.append("- **Attribution (CC BY).** Texts under a Creative Commons Attribution licence are credited in their "
                     "`provenance.license` (e.g. Arabic Wikinews articles: text by Wikinews contributors, CC BY 2.5, "
                     "https://creativecommons.org/licenses/by/2.5/); keep that credit, and say that Khabar removed diacritics "
                     "and added the annotations, when you redistribute them.")
    if prov.get("per_document"):
        rows = "\n".join(f"| `{d}` | `{seed}` | {lic} | {status} |" for d, seed, lic, status in prov["per_document"])
        lines.append("- Licence of each document:\n\n  <details><summary>" + f"{len(prov['per_document'])} documents</summary>\n\n"
                     "| document | seed file | licence | status |\n|---|---|---|---|\n" + rows + "\n\n  </details>")
    if prov["machine_translated"]:
        src = ", ".join(f"{k} {v}" for k, v in prov["translated_from"].items())
        lines.append(f"- **{prov['machine_translated']} document(s) are machine translations** (from: {src}); the evidence "
                     "is flagged in the text as `translation-artifact`.")
    kinds = ", ".join(f"`{k}` {v}" for k, v in stats["flag_kinds"].items())
    lines.append(f"- Suspected artifacts are flagged, never removed: {kinds or 'none'}.")
    return "\n".join(lines)


def _preannotator_text(pre: dict[str, Any] | None) -> str:
    """The pre-annotator's figures against gold (``reports/preannotator.json``) as Markdown."""
    if not pre:
        return ""
    rows = ["| layer | strict P | strict R | strict F1 | partial P | partial R | partial F1 | gold | predicted |", "|---|---|---|---|---|---|---|---|---|"]

    def row(name: str, r: dict[str, Any]) -> str:
        e, p = r["strict"], r["partial"]
        return (f"| {name} | {e['precision']:.2f} | {e['recall']:.2f} | {e['f1']:.2f} | {p['precision']:.2f} | "
                f"{p['recall']:.2f} | {p['f1']:.2f} | {e['gold']} | {e['predicted']} |")
    rows.append(row("entities (all)", pre["entities"]["overall"]))
    rows += [row(f"`{t}`", r) for t, r in pre["entities"]["per_type"].items()]
    rows.append(row("claims (content span only)", pre["claims"]))
    if pre.get("tool") not in (None, "khabar-preannotate"):  # `khabar preannotate --model` wrote the files
        return (f"\n### Pre-annotator quality\n\nThe pre-annotations in `annotations/` were made by the trained model "
                f"`{pre['tool']} {pre.get('version')}` (`khabar preannotate --model`), scored against the gold annotation of "
                f"{pre['documents']} document(s) with `nervaluate` (strict: same span and type; partial: overlapping span, type "
                "ignored, overlap counts half). These documents include the ones the model was trained on, so these figures "
                "are not held out: the section \"Trained pre-annotator\" has its figures on the `test` split.\n\n" + "\n".join(rows) + "\n")
    return (f"\n### Pre-annotator quality\n\nThe rule-based pre-annotator (`khabar preannotate`, gazetteers and reporting cues, "
            f"no downloaded model) against the gold annotation of {pre['documents']} document(s), scored with `nervaluate` "
            "(strict: same span and type; partial: overlapping span, type ignored, overlap counts half); "
            "`reports/preannotator.json` has `exact` and `ent_type` too. Claims are scored on their content span only (not "
            "cue, source or reporting chain). The figures are in-sample: the guidelines and gazetteers were written "
            "with this document at hand, so expect lower figures on unseen text. The gazetteers are general lists (countries, "
            "capitals, institutions, outlets, titles) and list only famous people, so person recall is low.\n\n" + "\n".join(rows) + "\n")


_EXAMPLES = {
    "entities": """split = ds["{split}"]
names = split.features["ner_tags"].feature.names
row = split[0]
print([(token, names[tag]) for token, tag in zip(row["tokens"], row["ner_tags"])])""",
    "claims": """row = ds["{split}"][0]
for claim in row["claims"]:                       # offsets relative to row["text"]
    print(row["text"][claim["content"]["start"]:claim["content"]["end"]], claim["source_text"])""",
    "stances": """row = ds["{split}"][0]
label = ds["{split}"].features["label"].int2str(row["label"])
print(row["holder_text"], label, row["target_text"], row["evidence_text"])""",
}


def _config_counts(config: str, c: dict[str, Any]) -> str:
    n = sum(c["splits"].values())
    head = f"{n} rows (" + ", ".join(f"{s} {k}" for s, k in c["splits"].items()) + ")" if n else "No rows"
    if config == "entities":
        return (f"{head}, {c.get('tokens', 0)} tokens. Of {c.get('entities', 0)} gold entities, {c.get('tagged', 0)} are tagged "
                f"({c.get('tagged_nested', 0)} in `nested_ner_tags`); **{c.get('dropped_depth3', 0)} nested three or more levels "
                "deep are not in this config** (two tag columns cannot show them; they stay in `documents`); "
                f"{c.get('dropped_clash', 0)} overlap another entity of their layer on a token (not nested) and are left untagged "
                f"where they do; {c.get('dropped_untokened', 0)} cover no token; {c.get('across_sentences', 0)} cross a sentence "
                "boundary and are tagged in each sentence they overlap, as one mention per sentence.")
    if config == "claims":
        return (f"{head}; {c.get('rows_with_claim', 0)} hold {c.get('claims', 0)} claims. {c.get('merged_rows', 0)} rows merge "
                f"{c.get('merged_sentences', 0)} sentences because a claim's content or cue crosses a sentence boundary (or they "
                f"lie in different sentences): spans are never cut; {c.get('rows_widened', 0)} rows are widened past their sentences "
                f"to hold a span that starts or ends between sentences; {c.get('dropped_outside_sentences', 0)} claims overlap no "
                "sentence and are not in this config.")
    return f"{head}, one per stance."


_INTROS = {
    "entities": "Nested named-entity recognition as token classification (Wojood types, IOB2): one row per sentence, "
                "`ner_tags` for the outermost entities and `nested_ner_tags` for those nested one level inside them, as in "
                "Wojood's first two tag columns. A token takes an entity's tag when it overlaps the entity's span (`B-` on "
                "its first token, `I-` after).\n\nTokenization: " + RULE,
    "claims": "Claim detection and check-worthiness (PARC attribution, CheckThat!): one row per sentence, with or without a "
              "claim; `has_claim` and `checkworthy` label the row, `claims` lists its claims with spans relative to its `text`.",
    "stances": "Stance detection (SemEval-2016 Task 6): one row per stance of a holder towards a corpus target, with the "
               "content of the claims that evidence it.",
}


def training_section(schemas: Schemas, version: str, stats: dict[str, Any]) -> str:
    """The card's ``## Training configs`` section: per config a load example, what was merged
    or left out (``stats["configs"]``, from the build), its fields and labels (from ``schema/``)."""
    parts = ["## Training configs\n\nThree configs are derived from the `documents` rows by `khabar.training` (the gate "
             "re-derives them from the `documents` rows and compares). Their rows go to the split of their document; offsets "
             "are code points, half-open `[start, end)`. Only documents with a gold annotation give training rows: a document "
             "not annotated yet stays in `documents` and is left out of the training configs (its sentences would otherwise "
             "read as holding no entity and no claim)."
             + (f" Left out here: {stats['configs']['entities'].get('unannotated_documents', 0)} document(s) without gold annotation."
                if stats["configs"]["entities"].get("unannotated_documents") else "")]
    for config in TRAINING_CONFIGS:
        c = stats["configs"][config]
        split = next(iter(c["splits"]), None)
        load = (f"```python\nfrom datasets import load_dataset\n\nds = load_dataset(\"releases/{version}\", \"{config}\")\n"
                + _EXAMPLES[config].format(split=split) + "\n```" if split else
                f"This release has no `{config}` rows, so the config is not declared (`load_dataset` refuses a config without "
                "data files); the gate re-derives it from the `documents` rows, finds no rows either, and accepts its absence.")
        parts.append(f"### `{config}`\n\n{_INTROS[config]}\n\n{load}\n\n{_config_counts(config, c)}\n\n"
                     f"{fields_table(schemas, config)}\n\n{config_labels(schemas, config)}")
    return "\n\n".join(parts) + "\n"


def _overview(version: str, stats: dict[str, Any]) -> str:
    """The card body up to its ``## Annotation`` section: what Khabar is, how to load it, and the
    release's contents and splits (from ``stats``), ending in a blank line."""
    split_lines = "\n".join(f"| {s} | {n} |" for s, n in stats["splits"].items())
    return f"""
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

Training-ready rows are in the configs `entities` (token classification), `claims` and `stances`:
`load_dataset("releases/{version}", "entities")` (see *Training configs* below).

The same rows through Croissant (`croissant.json`, one record set per config; a record is keyed
by field `@id`, text comes as `bytes`, and `split` is read from the file name):

```python
import mlcroissant as mlc

records = mlc.Dataset("releases/{version}/croissant.json").records("documents", filters={{"documents/split": "{stats['first_split']}"}})
record = next(iter(records))
print(record["documents/title"].decode())
```

`khabar validate` reads every record set this way and compares each record with its parquet row.

## Contents

| | |
|---|---|
| documents | {stats['documents']} |
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
"""


#: the card's ``## Files`` section (the same for every release)
_FILES = """## Files

- `data/<config>/<split>-00000-of-00001.parquet`: the rows (zstd), one explicit Arrow schema per config;
- `croissant.json`: Croissant 1.1 metadata with its responsible-AI fields: one record set per config, one field per column typed as the column (lists `isArray`, structs with `subField`s), plus `split`;
- `DATASHEET.md`: the datasheet (Gebru et al.); `GUIDELINES.md`: the annotation guidelines (when the release has annotations);
- `reports/stats.json` (with `configs`: the rows of each training config and what was merged or left out), `reports/preannotator.json` (when the release has gold and pre-annotations), `reports/index.jsonl` (one line per document: id, split, hashes), `reports/rows.json` (row digests that `khabar validate` checks after `load_dataset`), `reports/agreement.json` (inter-annotator agreement, `khabar agreement`; with PNG plots when documents were compared), `reports/baseline.json` (`khabar baseline` figures and settings, with the reference run), `reports/pretrained.json` (the trained pre-annotator of `khabar train` beside the gazetteers, on `test`), `reports/label-distribution.png` and `reports/document-lengths.png` (labels per split and layer, document lengths per split);
- `SHA256SUMS`: a checksum for every other file.
"""


def render_card(schemas: Schemas, version: str, data: DatasetCardData, stats: dict[str, Any], changelog: str,
                sections: Sequence[str] = ()) -> str:
    """The whole card: YAML header and a body for readers (load example, fields, labels, stats).

    Args:
        stats: the build's ``reports/stats.json`` (with ``configs``).
        sections: extra Markdown sections (each starting with ``## ``), placed after the training
            configs, in order.
    """
    extra = "".join(section.rstrip("\n") + "\n\n" for section in sections)
    body = f"""{_overview(version, stats)}
## Annotation

{stats['annotation_note']}
{_preannotator_text(stats.get("preannotator"))}
{training_section(schemas, version, stats)}
{extra}## Provenance and limitations

{_provenance_text(stats)}

See `DATASHEET.md` in this folder for the datasheet (Gebru et al.): sources, translation
evidence, known biases and uses to avoid.

{generated_section(schemas, stats)}

{_FILES}
## Changes

{changelog}
"""
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n{body}").content
