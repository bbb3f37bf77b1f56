"""The web dashboard (:4020 by default, started by `x402-sandbox up`): the stack's components
and wallets, every payment live, transactions decoded, buttons for facilitator and chain faults.

app.py is the server the page talks to (the only one it talks to); chain_view.py reads the chain;
decode.py decodes transactions; static/ is the page, plain HTML, CSS and one script.
"""

__all__: list[str] = []
