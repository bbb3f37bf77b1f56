import sys

from sandbox.payer.cli import main

sys.exit(main())
