"""``python -m khabar.cli``: the ``khabar`` command."""

from khabar.cli.main import main

main()
