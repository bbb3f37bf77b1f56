import sys

from sandbox.check_client.cli import main

sys.exit(main())
