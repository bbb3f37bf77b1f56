"""Locust load tests for x402 on Solana: user classes, load shapes and locustfiles.

    locustfile_paid.py        GET -> 402 -> sign -> paid GET (each phase its own entry)
    locustfile_challenge.py   the 402 challenge alone
    locustfile_verify.py      facilitator POST /verify with pre-signed payments
    locustfile_settle.py      facilitator POST /settle, every payment unique
Run them through `x402-sandbox loadtest PROFILE` (reports, reconciliation, thresholds) or with
plain `locust -f` (see loadtests/README.md). Importing this package does not import Locust;
`loadtests.users`, `loadtests.facilitator_users` and `loadtests.shapes` do.
"""

from loadtests.profiles import PROFILES, Profile, locustfile

__all__ = ["PROFILES", "Profile", "locustfile"]
