"""Facilitator POST /verify with pre-signed payments (each sent a few times: verify moves no
money), against X402_SANDBOX_FACILITATOR_URL.

    locust -f loadtests/locustfile_verify.py --host http://127.0.0.1:4022
"""

from loadtests.facilitator_users import VERIFY_REUSE, VerifyUser, use_reuse
from loadtests.runtime import runtime
from loadtests.shapes import selected_shape

use_reuse(VERIFY_REUSE)


class Verify(VerifyUser):
    host = runtime().targets.facilitator_url


if (_shape := selected_shape()) is not None:
    LoadShape = _shape
