"""The gate, ``khabar validate``: every check a release must pass before it ships.

``validate.validate_release`` runs the levels: ``files`` (level 1: checksums, the card against
the files, parquet schemas), ``rows`` and ``records`` (levels 2-3: schema, labels, spans, ids,
splits), ``training`` (the training configs re-derived), ``reports`` and ``load`` (level 4:
reports, Croissant, the ``load_dataset`` round trip). ``problems`` holds :class:`Problem` and the
registry of check ids (id -> level -> meaning).
Never imports :mod:`khabar.release` (the build calls the gate, not the other way).
"""
