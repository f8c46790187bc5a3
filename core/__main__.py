"""`python -m plugrad`: the `plugrad` command."""
import sys

from plugrad.cli import main

if __name__ == "__main__":  # importing it (documentation tools do) runs nothing
    sys.exit(main())
