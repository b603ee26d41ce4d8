"""Ethereum adapter: the only package that imports web3.

- artifacts.py    committed contract artifacts (contracts/artifacts/*.json)
- anvil.py        start/stop a local anvil node
- client.py       ChainClient (connect, deploy, send, decode reverts) and deploy_marketplace
- marketplace.py  typed escrow/entitlement operations and run_ref()

Submodules are imported explicitly (`from payments.chain.client import ChainClient`) so that
importing `payments` never pulls in web3.
"""
