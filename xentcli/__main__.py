"""``python -m xentcli``."""

from xentcli.cli import main

if __name__ == "__main__":
    main()
