"""`python -m optcore run|plot|methods|presets`: see optcore/cli.py."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
