"""Khabar: an annotated corpus of Arabic news and the toolkit that makes it.

Data flows one way: seeds -> corpus -> Label Studio -> annotations -> release -> gate. One
package per stage, each importing only the packages below it (``pyproject.toml``,
``[tool.importlinter]``): ``cli`` -> ``release`` -> ``gate`` -> ``baseline`` -> ``formats`` |
``studio`` | ``agreement`` -> ``dataset`` -> ``annotate`` | ``ingest`` -> ``text`` -> ``core``.

Offsets everywhere are Unicode code points, half-open ``[start, end)``, into a document's
``text``.
"""

__version__ = "0.6.0"
__all__ = ["__version__"]
