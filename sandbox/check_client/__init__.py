"""`x402-sandbox check-client`: any x402 client, run as a black box against case servers, judged
from what reached the server and the chain (issue 19).

    cases.py        the cases: each server's behaviour and the judge of the evidence
    case_server.py  the case's paid route (the sandbox's Paywall) behind a log of every request
    evidence.py     requests seen (x402 headers decoded), the payer's transactions, balances
    harness.py      one case end to end: fund a payer, serve, run the client, read the chain
    target.py       the stack: check-client's own (temporary home) or `make up`'s
    client_run.py   the client command: placeholders, environment, timeout
    report.py       the terminal table, the JSON and JUnit reports
    report_html.py  the HTML page
"""

from sandbox.check_client.cases import CASES, Case
from sandbox.check_client.harness import CaseResult, run_cases
from sandbox.check_client.target import HarnessError, Target, own_stack, running_stack

__all__ = [
    "CASES",
    "Case",
    "CaseResult",
    "HarnessError",
    "Target",
    "own_stack",
    "run_cases",
    "running_stack",
]
