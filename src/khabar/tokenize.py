"""Old home of the token rule, kept because release cards up to 0.3.0 name ``khabar.tokenize``.

The rule lives in :mod:`khabar.text.tokens`; import it from there.
"""

from khabar.text.tokens import RULE, tokenize

__all__ = ["RULE", "tokenize"]
