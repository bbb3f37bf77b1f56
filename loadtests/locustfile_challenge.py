"""The 402 challenge alone: an unpaid GET of a priced route, which must answer 402.

locust -f loadtests/locustfile_challenge.py --host http://127.0.0.1:4021
"""

from loadtests.runtime import runtime
from loadtests.shapes import selected_shape
from loadtests.users import ChallengeUser


class Challenge(ChallengeUser):
    host = runtime().targets.server_url


if (_shape := selected_shape()) is not None:
    LoadShape = _shape
