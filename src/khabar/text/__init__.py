"""Text tools shared by the stages: the token rule (``tokens``), nested BIO layers (``bio``) and
near-duplicate detection (``neardup``)."""
