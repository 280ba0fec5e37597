"""The ``khabar`` command: thin typer commands over the library, one module per command group.

``main`` is the console-script entry point; ``python -m khabar`` and ``python -m khabar.cli``
run it too. Commands import the library inside their bodies, so ``khabar --help`` and argument
errors never load ``datasets``, ``mlcroissant`` or the JSON Schema format checkers.
"""

from khabar.cli.main import app, main

__all__ = ["app", "main"]
