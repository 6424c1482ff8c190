"""`python -m bot.cli` is `vigie`."""

from bot.cli.app import main

main()
