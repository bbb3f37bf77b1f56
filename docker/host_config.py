"""Read the host's package settings for the container build, so nothing host-specific is committed.

`python3 docker/host_config.py mirror` prints the Debian mirror that the host's apt uses for the
target suite (debootstrap needs one); `python3 docker/host_config.py pip` prints shell assignments
(X402_PIP_INDEX_URL, X402_PIP_EXTRA_INDEX_URL, X402_PIP_TRUSTED_HOST, X402_PIP_CERT) taken from
the environment first, then from `pip config list`. Only network indexes are passed on: a file://
index on the host does not exist inside the build.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import subprocess
import sys

APT_SOURCE_FILES = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*"))]
PIP_KEYS = ("index-url", "extra-index-url", "trusted-host", "cert")


def _one_line_sources(text: str) -> list[tuple[str, list[str]]]:
    """`deb [opts] URI SUITE COMPONENT...` lines -> (uri, [suite])."""
    found = []
    for line in text.splitlines():
        line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
        if len(line) >= 3 and line[0] == "deb":
            found.append((line[1], [line[2]]))
    return found


def _deb822_sources(text: str) -> list[tuple[str, list[str]]]:
    """Stanzas with Types/URIs/Suites fields (the .sources format) -> (uri, suites)."""
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            found.append((uri, fields.get("suites", "").split()))
    return found


def debian_mirror(suite: str) -> str:
    """The first host apt source that serves `suite` itself (not -security or -updates)."""
    override = os.environ.get("X402_DEBIAN_MIRROR")
    if override:
        return override
    candidates = []
    for path in APT_SOURCE_FILES:
        # sources.list and *.list use one-line entries, *.sources the deb822 stanzas; anything
        # else in sources.list.d (.disabled, .save, ...) is not read by apt either.
        if path.endswith(".sources"):
            parse = _deb822_sources
        elif path.endswith(".list"):
            parse = _one_line_sources
        else:
            continue
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                candidates += parse(handle.read())
    for uri, suites in candidates:
        if suite in suites and uri.startswith(("http://", "https://")):
            return uri
    raise SystemExit(
        f"no apt source for Debian {suite!r} found in /etc/apt/sources.list(.d); "
        "set X402_DEBIAN_MIRROR to a Debian mirror URL"
    )


def pip_config() -> dict[str, str]:
    """pip's effective settings for the keys the build needs (environment wins)."""
    settings: dict[str, str] = {}
    try:
        listing = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    for line in listing.splitlines():
        match = re.match(r"^[^.]*\.([a-z-]+)='(.*)'$", line.strip())
        if match and match.group(1) in PIP_KEYS:
            settings[match.group(1)] = match.group(2)
    for key in PIP_KEYS:
        env_value = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if env_value:
            settings[key] = env_value
    return settings


def _network_urls(value: str) -> str:
    return " ".join(u for u in value.split() if u.startswith(("http://", "https://")))


def pip_assignments() -> str:
    settings = pip_config()
    cert = settings.get("cert") or os.environ.get("REQUESTS_CA_BUNDLE", "")
    values = {
        "X402_PIP_INDEX_URL": _network_urls(settings.get("index-url", "")),
        "X402_PIP_EXTRA_INDEX_URL": _network_urls(settings.get("extra-index-url", "")),
        "X402_PIP_TRUSTED_HOST": settings.get("trusted-host", ""),
        "X402_PIP_CERT": cert if cert and os.path.isfile(cert) else "",
    }
    return "\n".join(f"{name}={shlex.quote(value)}" for name, value in values.items())


def main(argv: list[str]) -> int:
    if argv[:1] == ["mirror"]:
        print(debian_mirror(argv[1] if len(argv) > 1 else "bookworm"))
        return 0
    if argv[:1] == ["pip"]:
        print(pip_assignments())
        return 0
    print("usage: host_config.py mirror [SUITE] | pip", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
