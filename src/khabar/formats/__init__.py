"""Foreign formats in and out of Khabar (``conll``)."""
