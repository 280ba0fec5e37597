"""Making a release: ``build`` (corpus + gold -> ``releases/<version>/``, then the gate), by phase:
``plan`` (the checked documents, their index and the diff against the latest release), ``shards``
(parquet writing), ``tally`` (the counts), ``reports`` (agreement and baseline reports),
``metadata`` (card, datasheet, Croissant, checksums) and ``changelog``; and ``job`` (the main job:
ingest -> build -> validate -> load).
"""
