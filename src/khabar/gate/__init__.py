"""The gate, ``khabar validate``: every check a release must pass before it ships.

``validate.validate_release`` runs the levels; ``training`` re-derives the training configs.
Never imports :mod:`khabar.release` (the build calls the gate, not the other way).
"""
