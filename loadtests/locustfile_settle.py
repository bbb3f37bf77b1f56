"""Facilitator POST /settle, every payment pre-signed and unique, against
X402_SANDBOX_FACILITATOR_URL. Money moves: run it against a sandbox or a test chain.

    locust -f loadtests/locustfile_settle.py --host http://127.0.0.1:4022
"""

from loadtests.facilitator_users import SettleUser
from loadtests.runtime import runtime
from loadtests.shapes import selected_shape


class Settle(SettleUser):
    host = runtime().targets.facilitator_url


if (_shape := selected_shape()) is not None:
    LoadShape = _shape
