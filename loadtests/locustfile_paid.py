"""The full paid round trip against a server: GET -> 402 -> sign -> paid GET -> 200.

    locust -f loadtests/locustfile_paid.py --host http://127.0.0.1:4021
Targets and keypairs: see loadtests/targets.py (X402_SANDBOX_* variables or X402_SANDBOX_HOME).
"""

from loadtests.runtime import runtime
from loadtests.shapes import selected_shape
from loadtests.users import PaidFlowUser


class PaidFlow(PaidFlowUser):
    host = runtime().targets.server_url


if (_shape := selected_shape()) is not None:
    LoadShape = _shape
