"""Print pyproject.toml's runtime dependencies, one per line, for `pip install -r`.

The Dockerfile installs these before copying the source, so the dependency layer is rebuilt only
when pyproject.toml changes, not on every code edit.
"""

import sys
import tomllib

with open(sys.argv[1], "rb") as handle:
    project = tomllib.load(handle)["project"]
print("\n".join(project.get("dependencies", [])))
