"""Khabar: an annotated corpus of Arabic news and the toolkit that makes it.

Data flows one way: seeds -> corpus -> Label Studio -> annotations -> release.
Offsets everywhere are Unicode code points, half-open ``[start, end)``, into a
document's ``text``.
"""

__version__ = "0.2.0"
__all__ = ["__version__"]
