import sys

from sandbox.facilitator.cli import main

sys.exit(main())
