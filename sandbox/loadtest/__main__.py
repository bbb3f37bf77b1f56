import sys

from sandbox.loadtest.cli import main

sys.exit(main())
