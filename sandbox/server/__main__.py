import sys

from sandbox.server.cli import main

sys.exit(main())
