import sys

from sandbox.dashboard.cli import main

sys.exit(main())
