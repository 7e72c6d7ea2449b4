"""``python -m xentcli``."""

from xentcli.cli import main

main()
