"""`x402-sandbox loadtest`: run a Locust profile (loadtests/) headless against the sandbox or
your own targets, write a report folder, reconcile the money with the chain, apply thresholds.

    x402-sandbox loadtest paid-flow --users 20 --duration 60s
    x402-sandbox loadtest compare REPORT_A REPORT_B
"""

from sandbox.loadtest.cli import main
from sandbox.loadtest.session import LoadtestOptions, run_loadtest

__all__ = ["LoadtestOptions", "main", "run_loadtest"]
