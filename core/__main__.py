import sys

from plugrad.cli import main

sys.exit(main())
