"""Making a release: ``build`` (corpus + gold -> ``releases/<version>/``, then the gate),
``reports`` (agreement and baseline reports in the release) and ``job`` (the main job: ingest ->
build -> validate -> load).
"""
