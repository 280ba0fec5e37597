"""Baseline models on plain rows: a CRF entity tagger and a claim-sentence classifier.

Rows are dicts with label *names* (not ClassLabel ids), shaped like the release's training
configs: an ``entities`` row has ``tokens`` (list of str) and ``ner_tags`` (IOB2 tag names,
``O``/``B-TYPE``/``I-TYPE``, one per token); a ``claims`` row has ``text`` (str) and
``has_claim`` (``"no"``/``"yes"``). :mod:`khabar.baseline.run` reads such rows from a release.

Tagger: a linear-chain CRF (Lafferty et al. 2001) trained with ``sklearn-crfsuite`` (CRFsuite's
L-BFGS, fixed ``c1``/``c2``/``max_iterations``, no random state: the same rows give the same
model). It is trained and scored on the *outer* layer ``ner_tags`` only; ``nested_ner_tags`` is
not used. Entities are scored with ``nervaluate`` (SemEval-2013 Task 9.1 schemes: strict = same
span and type, exact = same span, partial = overlapping span, half credit), over token ranges.

Classifier: scikit-learn ``LogisticRegression`` on character n-gram TF-IDF (``char_wb`` 2-5),
no downloaded model or embeddings; deterministic (lbfgs, fixed ``random_state``).

Both are compared with a majority-class baseline scored the same way: the training rows' most
frequent tag for every token (``O`` in practice: no entity, F1 0.0), and the most frequent
``has_claim`` label for every row.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any, Sequence

from tqdm import tqdm

from khabar.model.entities import decode
from khabar.text.bio import TagError, spans_from_tags
from khabar.core.errors import InputError

__all__ = ["CRF_SETTINGS", "TOKEN_FEATURES", "CLASSIFIER_SETTINGS", "SCHEMES", "token_features", "sentence_features",
           "decode_bio", "train_tagger", "predict_tags", "majority_tag", "score_tags", "evaluate_tagger",
           "train_claim_classifier", "majority_label", "score_claims", "evaluate_claim_classifier"]

#: CRFsuite training settings (L-BFGS with elastic-net regularisation).
CRF_SETTINGS = {"algorithm": "lbfgs", "c1": 0.1, "c2": 0.1, "max_iterations": 100, "all_possible_transitions": True}
#: The features of one token (``w``: the token; ``p1..p3``/``s1..s3``: its first/last 1-3
#: characters, which catch proclitics (و ف ب ك ل), the article ال and suffixes; ``digit``: has a
#: digit (any script); ``punct``: only punctuation/symbols; ``len``: length, capped at 10;
#: ``script``: arabic, latin, digit or other), and of its neighbours at -2..+2 (``w``, ``p2``,
#: ``p3``, ``s2``, ``s3``, prefixed with the offset); ``BOS``/``EOS`` at sentence edges.
TOKEN_FEATURES = ["bias", "w", "p1", "p2", "p3", "s1", "s2", "s3", "digit", "punct", "len", "script",
                  "[-2..+2]:w", "[-2..+2]:p2", "[-2..+2]:p3", "[-2..+2]:s2", "[-2..+2]:s3", "BOS", "EOS"]
#: Claim classifier settings.
CLASSIFIER_SETTINGS = {"analyzer": "char_wb", "ngram_range": [2, 5], "sublinear_tf": True,
                       "C": 10.0, "class_weight": "balanced", "solver": "lbfgs", "max_iter": 1000, "random_state": 0}
#: nervaluate schemes reported (SemEval-2013 Task 9.1; ``ent_type`` is left out).
SCHEMES = ("strict", "exact", "partial")
_YES = "yes"


def _script(token: str) -> str:
    letters = [c for c in token if unicodedata.category(c)[0] in "LM"]
    if not letters:
        return "digit" if any(c.isdigit() for c in token) else "other"
    names = {unicodedata.name(c, "").split(" ")[0] for c in letters}
    return "arabic" if names == {"ARABIC"} else "latin" if names == {"LATIN"} else "other"


def token_features(tokens: Sequence[str], i: int) -> dict[str, Any]:
    """CRFsuite features of token ``i`` of a sentence (see :data:`TOKEN_FEATURES`)."""
    w = tokens[i]
    f: dict[str, Any] = {"bias": 1.0, "w": w, "digit": any(c.isdigit() for c in w),
                         "punct": all(unicodedata.category(c)[0] in "PS" for c in w),
                         "len": str(min(len(w), 10)), "script": _script(w)}
    for k in (1, 2, 3):
        f[f"p{k}"], f[f"s{k}"] = w[:k], w[-k:]
    for off in (-2, -1, 1, 2):
        j = i + off
        if 0 <= j < len(tokens):
            n = tokens[j]
            f.update({f"{off:+d}:w": n, f"{off:+d}:p2": n[:2], f"{off:+d}:p3": n[:3],
                      f"{off:+d}:s2": n[-2:], f"{off:+d}:s3": n[-3:]})
    if i == 0:
        f["BOS"] = True
    if i == len(tokens) - 1:
        f["EOS"] = True
    return f


def sentence_features(tokens: Sequence[str]) -> list[dict[str, Any]]:
    """:func:`token_features` of every token of a sentence."""
    return [token_features(tokens, i) for i in range(len(tokens))]


def _field(row: dict[str, Any], name: str, n: int, kind: type) -> Any:
    where = f"row {n}" + (f" (id {row['id']})" if isinstance(row, dict) and "id" in row else "")
    if not isinstance(row, dict) or name not in row:
        raise InputError(f"{where}: no field {name!r}")
    if not isinstance(row[name], kind):
        raise InputError(f"{where}: field {name!r} is {type(row[name]).__name__}, expected {kind.__name__}")
    return row[name]


def _tagged(rows: Sequence[dict[str, Any]]) -> tuple[list[list[str]], list[list[str]]]:
    toks, tags = [], []
    for n, row in enumerate(rows):
        t, g = _field(row, "tokens", n, list), _field(row, "ner_tags", n, list)
        if len(t) != len(g):
            raise InputError(f"row {n} (id {row.get('id')}): {len(t)} tokens but {len(g)} ner_tags")
        toks.append(t)
        tags.append(g)
    return toks, tags


def decode_bio(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entity token ranges ``[(first, stop, type)]`` (half-open) of one predicted IOB2 sequence.

    Lenient, as CoNLL's ``conlleval``: ``I-X`` after ``O`` or after another type starts a new
    ``X`` entity (a CRF may predict such malformed IOB2); ``B-X`` always starts one
    (:func:`khabar.model.entities.decode`).
    """
    return decode(tags)


def train_tagger(rows: Sequence[dict[str, Any]], progress: bool = False) -> Any:
    """Train a CRF on the ``ner_tags`` (outer layer) of ``rows`` with :data:`CRF_SETTINGS`.

    Returns:
        A fitted ``sklearn_crfsuite.CRF``.

    Raises:
        InputError: no rows, a row without ``tokens``/``ner_tags`` lists of equal length.
    """
    import sklearn_crfsuite

    toks, tags = _tagged(rows)
    if not toks:
        raise InputError("no rows to train the tagger on")
    X = [sentence_features(t) for t in tqdm(toks, desc="CRF features", unit="sentence", disable=not progress)]
    crf = sklearn_crfsuite.CRF(**CRF_SETTINGS)
    crf.fit(X, tags)
    return crf


def predict_tags(model: Any, rows: Sequence[dict[str, Any]], progress: bool = False) -> list[list[str]]:
    """The model's tag names for the ``tokens`` of each row."""
    out = []
    for n, row in enumerate(tqdm(rows, desc="CRF tagging", unit="sentence", disable=not progress)):
        out.append(list(model.predict_single(sentence_features(_field(row, "tokens", n, list)))))
    return out


def majority_tag(rows: Sequence[dict[str, Any]]) -> str:
    """The most frequent ``ner_tags`` name of ``rows`` (ties: the alphabetically first; ``O`` if none)."""
    counts = Counter(t for seq in _tagged(rows)[1] for t in seq)
    return min(counts, key=lambda t: (-counts[t], t)) if counts else "O"


def _figures(r: Any) -> dict[str, Any]:
    return {"precision": round(float(r.precision), 4), "recall": round(float(r.recall), 4), "f1": round(float(r.f1), 4),
            "correct": r.correct, "incorrect": r.incorrect, "partial": r.partial, "missed": r.missed,
            "spurious": r.spurious, "gold": r.possible, "predicted": r.actual}



def score_tags(rows: Sequence[dict[str, Any]], predicted: Sequence[Sequence[str]],
               types: Sequence[str] | None = None) -> dict[str, Any]:
    """Score predicted tag sequences against the rows' ``ner_tags`` with ``nervaluate``.

    Gold sequences are decoded strictly (:func:`khabar.text.bio.spans_from_tags`), predictions
    leniently (:func:`decode_bio`); entities are token ranges.

    Args:
        types: entity types in report order (e.g. the schema's ``EntityType``); default: the
            types seen, sorted. A gold type outside ``types`` is an error.

    Returns:
        ``{"rows", "tokens", "entities" (gold), "token_accuracy", "overall": {scheme: figures},
        "per_type": {type: {scheme: figures}}}`` for schemes strict, exact, partial; figures are
        precision, recall, f1 (rounded to 4 places, 0.0 when undefined) and nervaluate's counts.

    Raises:
        InputError: no rows, a malformed gold sequence (strict IOB2), a length mismatch.
    """
    from nervaluate import Evaluator

    _, gold_tags = _tagged(rows)
    if not gold_tags:
        raise InputError("no rows to evaluate the tagger on")
    if len(predicted) != len(gold_tags):
        raise InputError(f"{len(predicted)} predicted sequences for {len(gold_tags)} rows")
    known = set(types) if types is not None else None
    gold, pred = [], []
    for n, (g, p) in enumerate(zip(gold_tags, predicted)):
        if len(p) != len(g):
            raise InputError(f"row {n} (id {rows[n].get('id')}): {len(p)} predicted tags for {len(g)} tokens")
        try:
            gold.append(spans_from_tags([[t] for t in g], known))
        except TagError as err:
            raise InputError(f"row {n} (id {rows[n].get('id')}): ner_tags: {err}") from None
        pred.append(decode_bio(p))
    seen = {s[2] for doc in gold + pred for s in doc}
    order = list(types) if types is not None else sorted(seen)
    as_dicts = [[{"label": t, "start": a, "end": b - 1} for a, b, t in doc] for doc in (*gold, *pred)]
    res = Evaluator(as_dicts[:len(gold)], as_dicts[len(gold):], tags=order, loader="dict").evaluate()
    tokens = sum(len(g) for g in gold_tags)
    right = sum(a == b for g, p in zip(gold_tags, predicted) for a, b in zip(g, p))
    return {"rows": len(gold_tags), "tokens": tokens, "entities": sum(len(d) for d in gold),
            "token_accuracy": round(right / tokens, 4) if tokens else 0.0,
            "overall": {s: _figures(res["overall"][s]) for s in SCHEMES},
            "per_type": {t: {s: _figures(res["entities"][t][s]) for s in SCHEMES} for t in order if t in res["entities"]}}


def evaluate_tagger(model: Any, rows: Sequence[dict[str, Any]], types: Sequence[str] | None = None,
                    progress: bool = False) -> dict[str, Any]:
    """:func:`score_tags` of the model's predictions on ``rows``."""
    return score_tags(rows, predict_tags(model, rows, progress), types)


def _labelled(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for n, row in enumerate(rows):
        texts.append(_field(row, "text", n, str))
        label = _field(row, "has_claim", n, str)
        if label not in ("no", "yes"):
            raise InputError(f"row {n} (id {row.get('id')}): has_claim is {label!r}, expected 'no' or 'yes'")
        labels.append(label)
    return texts, labels


def train_claim_classifier(rows: Sequence[dict[str, Any]]) -> Any:
    """Fit TF-IDF (character n-grams) + logistic regression on ``text`` -> ``has_claim``.

    Returns:
        A fitted ``sklearn.pipeline.Pipeline`` predicting ``"no"``/``"yes"``.

    Raises:
        InputError: a row without ``text``/``has_claim``, or the rows do not hold both labels.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = _labelled(rows)
    if len(set(labels)) < 2:
        raise InputError(f"the claim classifier needs rows of both labels; got {dict(sorted(Counter(labels).items()))}")
    s = CLASSIFIER_SETTINGS
    model = make_pipeline(
        TfidfVectorizer(analyzer=s["analyzer"], ngram_range=tuple(s["ngram_range"]), sublinear_tf=s["sublinear_tf"]),
        LogisticRegression(C=s["C"], class_weight=s["class_weight"], solver=s["solver"], max_iter=s["max_iter"],
                           random_state=s["random_state"]))
    return model.fit(texts, labels)


def majority_label(rows: Sequence[dict[str, Any]]) -> str:
    """The most frequent ``has_claim`` of ``rows`` (ties and no rows: ``"no"``)."""
    counts = Counter(_labelled(rows)[1])
    return "yes" if counts["yes"] > counts["no"] else "no"


def score_claims(rows: Sequence[dict[str, Any]], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, and precision/recall/F1 of ``yes``, of ``predicted`` against the rows' ``has_claim``.

    Returns:
        ``{"rows", "yes" (gold), "accuracy", "precision", "recall", "f1"}``, rounded to 4 places;
        an undefined ratio (no ``yes`` predicted or in gold) is 0.0.

    Raises:
        InputError: no rows, a row without ``text``/``has_claim``, a length mismatch.
    """
    _, gold = _labelled(rows)
    if not gold:
        raise InputError("no rows to evaluate the claim classifier on")
    if len(predicted) != len(gold):
        raise InputError(f"{len(predicted)} predictions for {len(gold)} rows")
    tp = sum(g == p == _YES for g, p in zip(gold, predicted))
    n_pred, n_gold = sum(p == _YES for p in predicted), gold.count(_YES)
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_gold if n_gold else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    acc = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
    return {"rows": len(gold), "yes": n_gold, "accuracy": round(acc, 4), "precision": round(prec, 4),
            "recall": round(rec, 4), "f1": round(f1, 4)}


def evaluate_claim_classifier(model: Any, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """:func:`score_claims` of the model's predictions on ``rows``."""
    texts, _ = _labelled(rows)
    return score_claims(rows, [str(p) for p in model.predict(texts)] if texts else [])
