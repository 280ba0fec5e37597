"""The trained pre-annotator's figures as Markdown: the model card of ``khabar train`` and the
section a release card carries (:func:`figures_markdown`).

Public API: :func:`figures_markdown`, :func:`model_card`.
"""

from __future__ import annotations

from typing import Any

from khabar.model.features import FEATURES

__all__ = ["figures_markdown", "model_card"]


def _prf(r: dict[str, Any]) -> str:
    return f"{r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f}"


def figures_markdown(report: dict[str, Any]) -> str:
    """Tables of a :func:`khabar.baseline.trainer.train_release` report: entities (strict and
    partial P/R/F1, overall and per type), claim content spans, claim source accuracy; the trained
    model beside the gazetteer pre-annotator, both on the same ``test`` documents."""
    m, g = report["model"], report["gazetteer"]
    lines = [f"Scored on the `{report['split']}` split ({report['documents']} documents, "
             f"{m['entities']['overall']['strict']['gold']} gold entities, {m['sources']['gold']} gold claims), "
             "which the model never trains on. nervaluate (SemEval-2013 9.1): strict = same span and type, "
             "partial = overlapping span (half credit), type ignored.", "",
             "| pre-annotator | entities strict P | R | F1 | entities partial P | R | F1 | claim content strict F1 | partial F1 | source accuracy |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in ((f"trained CRF `{m['version']}`", m), (f"gazetteers `{g['version']}`", g)):
        e, c, s = r["entities"]["overall"], r["claims"], r["sources"]
        lines.append(f"| {name} | {_prf(e['strict'])} | {_prf(e['partial'])} | {c['strict']['f1']:.3f} | {c['partial']['f1']:.3f} | "
                     f"{s['accuracy']:.3f} ({s['correct']}/{s['gold']}) |")
    lines += ["", "Per entity type (trained CRF strict and partial P/R/F1, then the gazetteers' F1):", "",
              "| type | gold | strict P | R | F1 | partial P | R | F1 | gazetteers strict F1 | partial F1 |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for t, r in m["entities"]["per_type"].items():
        st = r["strict"]
        if st["gold"] == 0 and st["predicted"] == 0:
            continue
        gz = g["entities"]["per_type"].get(t, {})
        gs, gp = (gz.get(k, {}).get("f1", 0.0) for k in ("strict", "partial"))
        lines.append(f"| {t} | {st['gold']} | {_prf(st)} | {_prf(r['partial'])} | {gs:.3f} | {gp:.3f} |")
    return "\n".join(lines) + "\n"


def model_card(model: Any, report: dict[str, Any]) -> str:
    """The ``MODEL_CARD.md`` of a trained model (sections after Mitchell et al. 2019, "Model Cards
    for Model Reporting"): what it is, training data with hashes and licences, settings, figures,
    limits."""
    meta = model.meta
    tr = meta["training"]
    extra = "".join(f"\n- `{x['file']}` ({x['format']}; SHA-256 `{x['sha256']}`; {x['sentences']} sentences, {x['entities']} entities; "
                    f"licence: {x['licence']}; class map: {x['class_map']})" for x in tr["extra"]) or " none"
    settings = meta["model"]["settings"]
    return f"""# Model card: `{model.version}`

## What it is
Khabar's trained pre-annotator: a two-layer linear-chain CRF entity tagger (outer entities, then
the entities nested in them; Wojood types) and a CRF claim tagger (PARC cue, source, content) with
rules that assemble claims (an anaphoric source takes the previous claim's; a source is an entity,
never a title inside it or a recipient). It proposes annotations for annotators to correct
(`khabar preannotate --model`, the Label Studio ML backend); it is not gold.

- toolkit: {meta['toolkit']}; libraries: {', '.join(f'{k} {v}' for k, v in meta['libraries'].items())}
- label schema: `{meta['schema_version']}` ({len(meta['entity_types'])} entity types); a project with other types refuses it
- runs on CPU; no downloaded weights or embeddings

## Training data
- release `{tr['release']}`, split `{tr['split']}` only: {tr['documents']} gold documents, {tr['entities']} entities, {tr['claims']} claims
- document ids SHA-256 `{tr['document_ids_sha256']}`; texts SHA-256 `{tr['text_sha256']}`
- extra entity data:{extra}

## Settings
- entity CRF: `{settings['entities']}`; claim CRF: `{settings['claims']}`
- token features: {'; '.join(FEATURES)}
- the same data and settings give the same model version (CRFsuite L-BFGS is deterministic)

## Figures
{figures_markdown(report)}
## Limits
- The test split is small; the figures move by several points with one document.
- Claims whose content runs over sentences, nested claims and reporting chains (`via`) are not
  learned; a source named only by a common noun (`التقرير`) is resolved to the previous claim's
  source, which is often wrong.
- Dialects, other genres than news and Latin-script text were not in the training data.

Types with neither gold nor predicted entities in the test documents are left out of the per-type
table. The toolkit version (the code) and the release version (the data) are numbered apart.

## Licence
The model is derived from its training data: `model.json` holds words, document frequencies and
a lexicon of names of the training texts. It is trained on Khabar's gold annotations of Arabic
Wikinews articles (text CC BY 2.5: credit "Wikinews contributors" and Khabar when you
redistribute it){_extra_licence(tr["extra"])}. The code that trains and runs it is Khabar's
(Apache-2.0).
"""


def _extra_licence(extra: list[dict[str, Any]]) -> str:
    if not extra:
        return ""
    share_alike = any(x["format"] == "aqmar" for x in extra)
    return ("; and on " + ", ".join(f"`{x['file']}` ({x['licence']})" for x in extra)
            + ("; with AQMAR joined, redistribute the model under CC BY-SA 3.0" if share_alike else ""))
