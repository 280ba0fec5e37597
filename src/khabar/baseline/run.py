"""Baselines of a release: a CRF entity tagger and a claim-sentence classifier, trained on the
``train`` split and scored on ``test``, each next to a majority-class baseline scored the same way.

The models and their row-level functions are in :mod:`khabar.baseline.models` (re-exported
here). This module reads the ``entities`` and ``claims`` configs of a release with
``datasets.load_dataset`` (ClassLabel ids decoded to names), and makes the report that goes into
the dataset card (:func:`baseline_markdown`) and ``khabar baseline --out``.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any


from khabar.baseline.models import (CLASSIFIER_SETTINGS, CRF_SETTINGS, SCHEMES, TOKEN_FEATURES, decode_bio,
                              evaluate_claim_classifier, evaluate_tagger, majority_label, majority_tag,
                              predict_tags, score_claims, score_tags, sentence_features, token_features,
                              train_claim_classifier, train_tagger)
from khabar.core.errors import InputError
from khabar.dataset.lookup import card_yaml_of
from khabar.dataset.rows import SPLITS
from khabar.dataset.layout import CARD

__all__ = ["run_baseline", "baseline_report", "baseline_markdown", "load_release_rows", "rows_from_files", "TRAIN", "TEST",
           "CRF_SETTINGS", "TOKEN_FEATURES", "CLASSIFIER_SETTINGS", "SCHEMES", "token_features", "sentence_features",
           "decode_bio", "train_tagger", "predict_tags", "majority_tag", "score_tags", "evaluate_tagger",
           "train_claim_classifier", "majority_label", "score_claims", "evaluate_claim_classifier"]

TRAIN, TEST = "train", "test"
#: columns read from each config (other columns are not loaded)
_COLUMNS = {"entities": ["id", "doc_id", "tokens", "ner_tags"], "claims": ["id", "doc_id", "text", "has_claim"],
            "documents": ["id", "text", "text_sha256", "sentences", "entities", "claims", "stances", "annotation"]}
_LIBRARIES = ("sklearn-crfsuite", "python-crfsuite", "scikit-learn", "nervaluate")


def _card_configs(release: Path) -> list[str]:
    if not release.is_dir():
        raise InputError(f"{release}: not a folder", hint="name a release folder, e.g. releases/0.3.0")
    try:
        meta = card_yaml_of((release / CARD).read_bytes())
    except (OSError, InputError):
        meta = {}
    if not isinstance(meta.get("configs"), list):
        raise InputError(f"{release}: not a release folder (no README.md dataset card with YAML `configs`)",
                         hint="name a folder made by `khabar build`, e.g. releases/0.3.0")
    return [c.get("config_name") for c in meta["configs"] if isinstance(c, dict)]


def load_release_rows(release: str | Path, config: str) -> tuple[dict[str, list[dict[str, Any]]], Any]:
    """The rows of one training config of a release, per split, with label names.

    Args:
        release: a release folder (``releases/<version>``).
        config: ``entities``, ``claims`` or ``documents`` (id, text, sentences, gold entities and claims).

    Returns:
        ``({split: [row, ...]}, features)``: rows hold the columns of ``_COLUMNS[config]`` with
        ClassLabel ids decoded to names; ``features`` are the config's ``datasets.Features``.

    Raises:
        InputError: not a folder, not a release folder (no card with ``configs``), the config is
            not in the card, does not load, lacks a column, or holds a row with a label id out of
            range or a null (named by split, row and id). The release is read into a throw-away
            cache, never a shared one (which would serve another release's rows by name).
    """
    import datasets

    from khabar.dataset.features import make_decoder

    release = Path(release)
    configs = _card_configs(release)
    if config not in configs:
        raise InputError(f"{release}: no {config!r} config (the card lists {', '.join(map(str, configs)) or 'none'})",
                         hint="rebuild the release with a khabar that writes the entities and claims training configs")
    import shutil
    import tempfile

    datasets.disable_progress_bars()
    cache = tempfile.mkdtemp(prefix="khabar-baseline-")  # never a shared cache: it would serve another release's rows
    try:
        try:
            dsd = datasets.load_dataset(str(release), config, cache_dir=cache)
        except Exception as err:  # noqa: BLE001 - any failure to load is the release's problem, named
            raise InputError(f"{release}: config {config!r} does not load: {type(err).__name__}"
                             + (f": {str(err).splitlines()[0]}" if str(err).strip() else ""),
                             hint=f"check the release with `khabar validate {release}`") from None
        features = next(iter(dsd.values())).features
        missing = [c for c in _COLUMNS[config] if c not in features]
        if missing:
            raise InputError(f"{release}: config {config!r} has no column {missing[0]!r}",
                             hint=f"check the release with `khabar validate {release}`")
        decode = make_decoder(features)
        out: dict[str, list[dict[str, Any]]] = {}
        for split, ds in dsd.items():
            rows = out[split] = []
            for n, r in enumerate(ds.select_columns(_COLUMNS[config])):
                try:
                    rows.append(decode(r))
                except ValueError as err:
                    raise InputError(f"{release}: {config}/{split} row {n} (id {r.get('id')}): {err}",
                                     hint=f"check the release with `khabar validate {release}`") from None
                if any(v is None for v in rows[-1].values()):
                    field = next(k for k, v in rows[-1].items() if v is None)
                    raise InputError(f"{release}: {config}/{split} row {n} (id {r.get('id')}): {field} is null",
                                     hint=f"check the release with `khabar validate {release}`")
        return out, features
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _counts(rows: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {s: len(rows.get(s, [])) for s in SPLITS} | {s: len(r) for s, r in rows.items()}


def _reason(problems: list[str], counts: dict[str, int], unit: str) -> str:
    where = ", ".join(f"{s} {n}" for s, n in counts.items())
    return "; ".join(problems) + f" ({unit} per split: {where})"


def _entity_part(rows: dict[str, list[dict[str, Any]]], types: list[str], progress: bool,
                 counts: dict[str, int] | None = None) -> dict[str, Any]:
    train, test = rows.get(TRAIN, []), rows.get(TEST, [])
    counts = _counts(rows) if counts is None else _counts({}) | counts

    def ents(rs: list[dict[str, Any]]) -> int:
        return sum(t.startswith("B-") for r in rs for t in r["ner_tags"])

    problems = [f"{name} has {'no sentences' if not rs else 'no entity'}"
                for name, rs in ((TRAIN, train), (TEST, test)) if not rs or not ents(rs)]
    out: dict[str, Any] = {"layer": "ner_tags", "sentences": counts, "status": "trained", "reason": None,
                           "crf": None, "majority": None}
    if problems:
        return out | {"status": "not enough data", "reason": _reason(problems, counts, "sentences")}
    model = train_tagger(train, progress)
    tag = majority_tag(train)
    return out | {"crf": evaluate_tagger(model, test, types, progress),
                  "majority": {"tag": tag, **score_tags(test, [[tag] * len(r["tokens"]) for r in test], types)}}


def _claim_part(rows: dict[str, list[dict[str, Any]]], counts: dict[str, int] | None = None) -> dict[str, Any]:
    train, test = rows.get(TRAIN, []), rows.get(TEST, [])
    counts = _counts(rows) if counts is None else _counts({}) | counts
    labels = {s: {"no": sum(r["has_claim"] == "no" for r in rs), "yes": sum(r["has_claim"] == "yes" for r in rs)}
              for s, rs in ((TRAIN, train), (TEST, test))}
    problems = []
    if not all(labels[TRAIN].values()):
        problems.append(f"train needs rows of both labels (no: {labels[TRAIN]['no']}, yes: {labels[TRAIN]['yes']})")
    if not labels[TEST]["yes"]:
        problems.append(f"test has no `yes` row (no: {labels[TEST]['no']}, yes: 0)")
    out: dict[str, Any] = {"rows": counts, "status": "trained", "reason": None, "classifier": None, "majority": None}
    if problems:
        return out | {"status": "not enough data", "reason": _reason(problems, counts, "rows")}
    label = majority_label(train)
    return out | {"classifier": evaluate_claim_classifier(train_claim_classifier(train), test),
                  "majority": {"label": label, **score_claims(test, [label] * len(test))}}


def rows_from_files(release: str | Path, config: str, limits: dict[str, int] | None = None
                    ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    """Like :func:`load_release_rows`, but read straight from the parquet shards
    ``data/<config>/<split>-*.parquet`` (:func:`khabar.dataset.lookup.iter_shard_rows`). Used by the
    build on its staging folder, before the card exists.

    Args:
        limits: ``{split: most rows to read}`` (the first ones, in file order).

    Returns:
        ``({split: rows}, {split: rows left out by the limits})``; splits with no row read are
        left out.

    Raises:
        InputError: no shard of ``config``; a shard that cannot be read or holds a bad label id.
    """
    import pyarrow.parquet as pq

    from khabar.dataset.lookup import iter_shard_rows

    folder = Path(release) / "data" / config
    shards = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not shards:
        raise InputError(f"{folder}: no parquet shard of config {config!r}")
    out: dict[str, list[dict[str, Any]]] = {}
    left: dict[str, int] = {}
    for shard in shards:
        split = shard.name.split("-", 1)[0]
        got = out.setdefault(split, [])
        cap = (limits or {}).get(split)
        before = len(got)
        got.extend(iter_shard_rows(shard, _COLUMNS[config], f"rebuild the release ({shard} is not as the build wrote it)",
                                   None if cap is None else max(0, cap - before)))
        skipped = pq.ParquetFile(shard).metadata.num_rows - (len(got) - before)
        if skipped:
            left[split] = left.get(split, 0) + skipped
    return {s: r for s, r in out.items() if r}, left


def baseline_report(ent_rows: dict[str, list[dict[str, Any]]], claim_rows: dict[str, list[dict[str, Any]]],
                    types: list[str], release: str, progress: bool = False,
                    reference: dict[str, Any] | None = None, counts: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """The baseline report of rows already read (see :func:`run_baseline` for its shape).

    Args:
        ent_rows, claim_rows: ``{split: rows}`` of the ``entities`` and ``claims`` configs, labels
            as names (an empty dict when the config has no rows).
        types: the EntityType vocabulary (per-type figures, in this order).
        reference: a :func:`khabar.baseline.reference.reference_baseline` report to include.
        counts: ``{config: {split: rows}}`` of the whole release, reported instead of the number
            of rows passed (when only some were read).
    """
    out = {
        "release": release, "train_split": TRAIN, "test_split": TEST,
        "entities": _entity_part(ent_rows, types, progress, (counts or {}).get("entities")),
        "claims": _claim_part(claim_rows, (counts or {}).get("claims")),
        "settings": {
            "tagger": {"model": "linear-chain CRF", **CRF_SETTINGS, "features": TOKEN_FEATURES,
                       "trained_on": "ner_tags (outer layer; nested_ner_tags not used)",
                       "decoding": "lenient IOB2 (an I- tag after O or another type starts an entity, as conlleval)",
                       "scoring": "nervaluate entity figures over token ranges: " + ", ".join(SCHEMES)},
            "classifier": {"model": "TF-IDF + LogisticRegression", **CLASSIFIER_SETTINGS,
                           "target": "has_claim", "positive": "yes"},
            "libraries": {lib: version(lib) for lib in _LIBRARIES},
        },
    }
    if reference is not None:
        out["reference"] = reference
    return out


def run_baseline(release_dir: str | Path, progress: bool = False, reference: bool = False) -> dict[str, Any]:
    """Train both baselines on the release's ``train`` split and score them on ``test``.

    A part whose splits are missing or too small (the tagger needs an entity in train and in
    test; the classifier needs both labels in train and a ``yes`` in test) is not trained: its
    ``status`` is ``"not enough data"``, its figures ``null`` and ``reason`` says what is missing
    with the row counts per split. Never NaN; floats rounded to 4 places.

    Args:
        reference: also run the CRF on the Wojood sample shipped with the toolkit
            (:mod:`khabar.baseline.reference`) and include it as ``reference``.

    Returns:
        A JSON-able dict ``{"release", "train_split", "test_split", "entities": {layer, sentences,
        status, reason, crf, majority}, "claims": {rows, status, reason, classifier, majority},
        "settings": {tagger, classifier, libraries}[, "reference"]}``; ``crf``/``majority`` figures
        as :func:`score_tags`, ``classifier``/``majority`` as :func:`score_claims`.

    Raises:
        InputError: see :func:`load_release_rows`, and malformed rows (:func:`score_tags`).
    """
    release = Path(release_dir)
    ent_rows, ent_features = load_release_rows(release, "entities")
    claim_rows, _ = load_release_rows(release, "claims")
    types = [n[2:] for n in ent_features["ner_tags"].feature.names if n.startswith("B-")]
    ref = None
    if reference:
        from khabar.baseline.reference import reference_baseline
        from khabar.core.project import find_root
        from khabar.core.schema import Schemas

        ref = reference_baseline(Schemas(find_root(release) / "schema"), progress)
    return baseline_report(ent_rows, claim_rows, types, release.name, progress, ref)


def _f(x: float) -> str:
    return f"{x:.4f}"


def _tagger_table(crf: dict[str, Any], maj: dict[str, Any]) -> list[str]:
    """The CRF vs majority-class table (Markdown lines) of a tagger part."""
    out = ["| model | strict P | strict R | strict F1 | exact F1 | partial F1 | token accuracy |", "|---|---|---|---|---|---|---|"]
    for name, r in (("CRF", crf), (f"majority class (every token `{maj['tag']}`)", maj)):
        o = r["overall"]
        out.append(f"| {name} | {_f(o['strict']['precision'])} | {_f(o['strict']['recall'])} | {_f(o['strict']['f1'])} "
                   f"| {_f(o['exact']['f1'])} | {_f(o['partial']['f1'])} | {_f(r['token_accuracy'])} |")
    return out


def baseline_markdown(report: dict[str, Any]) -> str:
    """A dataset-card section (Markdown, starting with ``## Baselines``) for a :func:`run_baseline` report."""
    s, ent, cl = report["settings"], report["entities"], report["claims"]
    t, c, lib = s["tagger"], s["classifier"], s["libraries"]
    out = ["## Baselines", "",
           f"Simple reference models, trained on the `{report['train_split']}` split and scored on "
           f"`{report['test_split']}` by `khabar baseline`, each next to a majority-class baseline scored the same way.",
           "", "### Entity tagger (CRF)", "",
           f"A linear-chain CRF (sklearn-crfsuite {lib['sklearn-crfsuite']}, python-crfsuite {lib['python-crfsuite']}; "
           f"L-BFGS, c1={t['c1']}, c2={t['c2']}, {t['max_iterations']} iterations) over per-token features: the token, its "
           "first and last 1–3 characters (clitics, the article ال), digit, punctuation, script and length, and the tokens "
           "and affixes of the neighbours within ±2 tokens. Trained and scored on the outer layer `ner_tags`. Scored with "
           f"nervaluate {lib['nervaluate']} over entities: strict = same span and type, exact = same span, partial = "
           "overlapping span (half credit). A predicted `I-` tag after `O` or another type starts an entity (conlleval).", ""]
    if ent["status"] != "trained":
        out += [f"Not trained: {ent['reason']}.", ""]
    else:
        crf, maj = ent["crf"], ent["majority"]
        out += [f"Test: {crf['rows']} sentences, {crf['tokens']} tokens, {crf['entities']} entities.", ""]
        out += _tagger_table(crf, maj)
        out += ["", "| type | test entities | CRF strict F1 | CRF partial F1 |", "|---|---|---|---|"]
        out += [f"| {typ} | {r['strict']['gold']} | {_f(r['strict']['f1'])} | {_f(r['partial']['f1'])} |"
                for typ, r in crf["per_type"].items()]
        out.append("")
    out += ["### Claim-sentence classifier", "",
            f"Logistic regression (scikit-learn {lib['scikit-learn']}, C={c['C']}, class_weight={c['class_weight']}) on "
            f"character n-gram TF-IDF ({c['analyzer']}, {c['ngram_range'][0]}–{c['ngram_range'][1]}), predicting "
            "`has_claim` per row; no pretrained model or embeddings. Precision, recall and F1 are those of `yes`.", ""]
    if cl["status"] != "trained":
        out += [f"Not trained: {cl['reason']}.", ""]
    else:
        k, maj = cl["classifier"], cl["majority"]
        out += [f"Test: {k['rows']} rows, {k['yes']} `yes`.", "",
                "| model | accuracy | precision | recall | F1 |", "|---|---|---|---|---|"]
        for name, r in (("logistic regression", k), (f"majority class (every row `{maj['label']}`)", maj)):
            out.append(f"| {name} | {_f(r['accuracy'])} | {_f(r['precision'])} | {_f(r['recall'])} | {_f(r['f1'])} |")
        out.append("")
    ref = report.get("reference")
    if ref is not None:
        crf, maj = ref["crf"], ref["majority"]
        out += ["### Reference run (not this release's data)", "",
                f"The same CRF trained and scored on {ref['data']}: {ref['paragraphs']['train']} train paragraphs "
                f"({ref['sentences']['train']} sentences), {ref['paragraphs']['test']} test paragraphs ({ref['sentences']['test']} "
                f"sentences, {crf['entities']} entities; {ref['split']}). Wojood's tokens carry proclitics "
                "(`لمنظمة` B-ORG), as the `entities` config does.", ""]
        out += _tagger_table(crf, maj) + [""]
    return "\n".join(out)
