"""``python -m khabar``: the ``khabar`` command."""

from khabar.cli.main import main

main()
