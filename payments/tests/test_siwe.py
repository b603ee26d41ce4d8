"""Sign-In with Ethereum on a real anvil and PostgreSQL: every kind of bad message is refused with
its own code, a message works once, linking and logging in with a wallet, unlinking, one account
per address, and contract wallets (ERC-1271)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import threading

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import RequestFactory
from django.urls import include, path
from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct

from agentnexus import urls as root_urls
from agentnexus.core.errors import ApplicationError, NotFoundError
from marketplace.tests.factories import UserFactory
from payments.auth import WALLET_BACKEND
from payments.chain.anvil import dev_private_keys
from payments.chain.artifacts import CONTRACTS_DIR, artifact_names, load_artifact
from payments.chain.client import ChainClient
from payments.models import SiweNonce, Wallet
from payments.siwe import SECP256K1_N, format_time, siwe_parse
from payments.tests.chain_env import require_or_skip, start_anvil
from payments.wallets import (
    siwe_nonce_issue,
    wallet_link,
    wallet_login,
    wallet_set_primary,
    wallet_unlink,
)

# The site's URLs plus the wallet pages, until agentnexus/urls.py includes payments.urls.
urlpatterns = [path("", include("payments.urls")), *root_urls.urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

HOST = "testserver"
KEYS = dev_private_keys(10)


@pytest.fixture(scope="module")
def anvil():
    node = start_anvil()
    yield node
    node.stop()


@pytest.fixture(autouse=True)
def chain_settings(anvil, settings):
    settings.CHAIN_RPC_URL = anvil.rpc_url
    settings.CHAIN_ID = anvil.chain_id
    if WALLET_BACKEND not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, WALLET_BACKEND]


def new_key() -> str:
    return ChainClient.create_key()


def address_of(key: str) -> str:
    return Account.from_key(key).address


def sign(text: str, key: str) -> str:
    return Account.sign_message(encode_defunct(text=text), key).signature.to_0x_hex()


def signed(
    key: str,
    *,
    purpose: str = SiweNonce.Purpose.LINK,
    user=None,
    address: str | None = None,
    signer: str | None = None,
    **changes,
) -> tuple[str, str]:
    """A fresh nonce's message for `key`'s address (or `address`), with `changes` applied to its
    fields, signed by `signer` (default: `key`)."""
    _, template = siwe_nonce_issue(purpose=purpose, domain=HOST, uri=f"http://{HOST}/", user=user)
    message = template.message(address=address or address_of(key))
    text = dataclasses.replace(message, **changes).text()
    return text, sign(text, signer or key)


def link(user, key: str, **changes) -> Wallet:
    text, signature = signed(key, user=user, **changes)
    return wallet_link(user=user, message=text, signature=signature, request_host=HOST)


def refused(code: str, fn, *args, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value.message}"
    return info.value


# ------------------------------------------------------------------------------ rejections


def test_wrong_domain_is_refused_and_leaves_the_nonce_usable():
    user, key = UserFactory(), new_key()
    _, template = siwe_nonce_issue(
        purpose=SiweNonce.Purpose.LINK,
        domain="evil.example",
        uri="https://evil.example/",
        user=user,
    )
    text = template.message(address=address_of(key)).text()
    error = refused(
        "siwe_domain_mismatch",
        wallet_link,
        user=user,
        message=text,
        signature=sign(text, key),
        request_host=HOST,
    )
    assert "evil.example" in error.message and error.status_code == 400

    # Right domain, URI on another site.
    text, signature = signed(key, user=user, uri="https://evil.example/login")
    refused(
        "siwe_domain_mismatch",
        wallet_link,
        user=user,
        message=text,
        signature=signature,
        request_host=HOST,
    )

    # Refusals before the nonce check leave it unused: the proper message still works.
    nonce = siwe_parse(text).nonce
    assert SiweNonce.objects.get(nonce=nonce).used_at is None
    good = dataclasses.replace(siwe_parse(text), uri=f"http://{HOST}/").text()
    wallet = wallet_link(user=user, message=good, signature=sign(good, key), request_host=HOST)
    assert wallet.address == address_of(key)
    assert not Wallet.objects.exclude(pk=wallet.pk).filter(user=user).exists()


def test_wrong_chain_is_refused():
    user, key = UserFactory(), new_key()
    text, signature = signed(key, user=user, chain_id=1)
    error = refused(
        "siwe_wrong_chain",
        wallet_link,
        user=user,
        message=text,
        signature=signature,
        request_host=HOST,
    )
    assert "chain 1" in error.message and "31337" in error.message
    assert not Wallet.objects.filter(user=user).exists()


def test_expired_message_and_expired_nonce_are_refused():
    user, key = UserFactory(), new_key()
    past = timezone.now() - dt.timedelta(minutes=1)
    text, signature = signed(key, user=user, expiration_time=format_time(past))
    error = refused(
        "siwe_expired", wallet_link, user=user, message=text, signature=signature, request_host=HOST
    )
    assert "expired" in error.message

    # The message itself still claims to be valid, but its nonce has run out.
    text, signature = signed(key, user=user)
    SiweNonce.objects.filter(nonce=siwe_parse(text).nonce).update(expires_at=past)
    refused(
        "siwe_expired", wallet_link, user=user, message=text, signature=signature, request_host=HOST
    )

    future = timezone.now() + dt.timedelta(hours=1)
    text, signature = signed(key, user=user, not_before=format_time(future))
    refused(
        "siwe_not_yet_valid",
        wallet_link,
        user=user,
        message=text,
        signature=signature,
        request_host=HOST,
    )
    assert not Wallet.objects.filter(user=user).exists()


def test_a_message_works_once_and_only_with_nonces_we_issued():
    user, key = UserFactory(), new_key()
    text, signature = signed(key, user=user)
    wallet_link(user=user, message=text, signature=signature, request_host=HOST)
    error = refused(
        "siwe_nonce_used",
        wallet_link,
        user=user,
        message=text,
        signature=signature,
        request_host=HOST,
    )
    assert "already used" in error.message

    # A nonce we never issued.
    forged = dataclasses.replace(siwe_parse(text), nonce="abcdef0123456789").text()
    refused(
        "siwe_nonce_unknown",
        wallet_link,
        user=user,
        message=forged,
        signature=sign(forged, key),
        request_host=HOST,
    )

    # A link nonce issued to someone else, and a login nonce, are unknown for this link.
    other = UserFactory()
    text, signature = signed(key, user=other)
    refused(
        "siwe_nonce_unknown",
        wallet_link,
        user=user,
        message=text,
        signature=signature,
        request_host=HOST,
    )
    text, signature = signed(key, purpose=SiweNonce.Purpose.LOGIN)
    refused(
        "siwe_nonce_unknown",
        wallet_link,
        user=user,
        message=text,
        signature=signature,
        request_host=HOST,
    )


def test_bad_signatures_are_refused():
    user, key = UserFactory(), new_key()
    # Signed by another key.
    text, signature = signed(key, user=user, signer=new_key())
    error = refused(
        "siwe_bad_signature",
        wallet_link,
        user=user,
        message=text,
        signature=signature,
        request_host=HOST,
    )
    assert address_of(key) in error.message

    # Not hex, wrong length, all zeros.
    text, good = signed(key, user=user)
    for bad in ("not-a-signature", "0x1234", "0x" + "00" * 65, good[:-2]):
        refused(
            "siwe_bad_signature",
            wallet_link,
            user=user,
            message=text,
            signature=bad,
            request_host=HOST,
        )

    # The malleable twin of a valid signature (s -> n - s, v flipped) recovers the same key, but
    # is refused as Ethereum refuses it for transactions (EIP-2).
    raw = bytes.fromhex(good[2:])
    s = int.from_bytes(raw[32:64], "big")
    twin = raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - raw[64]])
    assert Account.recover_message(encode_defunct(text=text), signature=twin) == address_of(key)
    refused(
        "siwe_bad_signature",
        wallet_link,
        user=user,
        message=text,
        signature="0x" + twin.hex(),
        request_host=HOST,
    )
    # The nonce survived all of that.
    wallet = wallet_link(user=user, message=text, signature=good, request_host=HOST)
    assert wallet.is_primary


def _malformed_variants(text: str) -> dict[str, str]:
    lines = text.split("\n")
    address = lines[1]
    return {
        "empty": "",
        "crlf": text.replace("\n", "\r\n"),
        "trailing newline": text + "\n",
        "no header": "\n".join(lines[1:]),
        "userinfo in domain": text.replace(HOST, f"user@{HOST}", 1),
        "lowercase address": text.replace(address, address.lower()),
        "short address": text.replace(address, address[:-2]),
        "no blank line": "\n".join(lines[:2] + lines[3:]),
        "statement with quote": text.replace(lines[3], 'Say "hi"'),
        "version 2": text.replace("Version: 1", "Version: 2"),
        "chain id not a number": text.replace("Chain ID: 31337", "Chain ID: 0x7a69"),
        "short nonce": text.replace(lines[8], "Nonce: abc123"),
        "nonce with dash": text.replace(lines[8], lines[8] + "-x"),
        "bad date": text.replace(lines[9], "Issued At: yesterday"),
        "fields out of order": "\n".join(lines[:6] + [lines[7], lines[6]] + lines[8:]),
        "unknown field": text + "\nColour: blue",
        "bad resource": text + "\nResources:\n- not a uri",
        "too long": text + "\nRequest ID: " + "a" * 5000,
    }


def test_malformed_messages_are_refused():
    user, key = UserFactory(), new_key()
    text, _ = signed(key, user=user)
    assert text.split("\n")[3] == "Link this wallet to your AgentNexus account."
    for name, variant in _malformed_variants(text).items():
        with pytest.raises(ApplicationError) as info:
            wallet_link(
                user=user, message=variant, signature=sign(variant or "x", key), request_host=HOST
            )
        assert info.value.code == "siwe_malformed", (name, info.value.code, info.value.message)
        assert info.value.message.startswith("The sign-in message is malformed"), name
    assert not Wallet.objects.filter(user=user).exists()


def test_parse_round_trips_every_optional_field():
    text = "\n".join(
        [
            "https://example.com:8443 wants you to sign in with your Ethereum account:",
            address_of(KEYS[0]),
            "",
            "I accept the ServiceOrg Terms of Service: https://service.org/tos",
            "",
            "URI: https://example.com:8443/login",
            "Version: 1",
            "Chain ID: 1",
            "Nonce: 32891756",
            "Issued At: 2021-09-30T16:25:24.123456789Z",
            "Expiration Time: 2021-10-30T16:25:24+02:00",
            "Not Before: 2021-09-30T16:25:24Z",
            "Request ID: req-1:@x",
            "Resources:",
            "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
            "- https://example.com/my-web2-claim.json",
        ]
    )
    parsed = siwe_parse(text)
    assert (parsed.scheme, parsed.domain, parsed.chain_id) == ("https", "example.com:8443", 1)
    assert parsed.resources[1] == "https://example.com/my-web2-claim.json"
    assert parsed.text() == text
    # Without a statement the ABNF keeps both blank lines.
    bare = dataclasses.replace(parsed, statement=None, scheme=None)
    assert "\n\n\nURI: " in bare.text() and siwe_parse(bare.text()) == bare


# ------------------------------------------------------------------------ link and login


def test_link_first_wallet_is_primary_and_linking_again_is_harmless():
    user, first, second = UserFactory(), new_key(), new_key()
    a = link(user, first)
    b = link(user, second)
    assert (a.is_primary, b.is_primary, a.is_contract) == (True, False, False)
    assert a.address == address_of(first)  # stored with its EIP-55 checksum
    again = link(user, first)
    assert again.pk == a.pk and Wallet.objects.filter(user=user).count() == 2


def test_an_address_linked_to_another_account_is_refused():
    owner, intruder, key = UserFactory(), UserFactory(), new_key()
    link(owner, key)
    error = refused(
        "wallet_linked_elsewhere",
        link,
        intruder,
        key,
    )
    assert error.status_code == 409 and address_of(key) in error.message
    assert Wallet.objects.get(address=address_of(key)).user == owner
    assert not Wallet.objects.filter(user=intruder).exists()


def test_login_with_a_linked_wallet(client):
    user, key = UserFactory(), new_key()
    link(user, key)
    response = client.post(
        "/wallet/siwe/nonce/",
        {"purpose": "login", "address": address_of(key).lower()},
        content_type="application/json",
    )
    assert response.status_code == 201
    message = response.json()["message"]
    assert message.startswith(f"{HOST} wants you to sign in with your Ethereum account:\n")
    assert f"\n{address_of(key)}\n" in message and "\nChain ID: 31337\n" in message

    response = client.post(
        "/wallet/login/",
        {"message": message, "signature": sign(message, key), "next": "/wallet/"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"redirect": "/wallet/"}
    page = client.get("/wallet/")
    assert page.status_code == 200 and page.context["user"] == user
    assert client.session["_auth_user_backend"] == WALLET_BACKEND

    # The same signed message does not log in twice.
    client.logout()
    again = client.post(
        "/wallet/login/",
        {"message": message, "signature": sign(message, key)},
        content_type="application/json",
    )
    assert again.status_code == 400 and again.json()["error"]["code"] == "siwe_nonce_used"


def test_login_refuses_an_unknown_wallet_and_creates_no_account(client):
    key = new_key()
    users = UserFactory._meta.model.objects.count()
    text, signature = signed(key, purpose=SiweNonce.Purpose.LOGIN)
    refused("wallet_not_linked", wallet_login, message=text, signature=signature, request_host=HOST)

    text, signature = signed(key, purpose=SiweNonce.Purpose.LOGIN)
    response = client.post(
        "/wallet/login/",
        {"message": text, "signature": signature, "next": "https://evil.example/"},
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 400 and body["error"]["code"] == "wallet_not_linked"
    assert "link this wallet" in body["error"]["message"]
    assert UserFactory._meta.model.objects.count() == users
    assert "_auth_user_id" not in client.session


def test_wallet_backend_authenticates_through_django():
    user, key = UserFactory(), new_key()
    link(user, key)
    request = RequestFactory().post("/wallet/login/")
    text, signature = signed(key, purpose=SiweNonce.Purpose.LOGIN)
    assert authenticate(request, siwe_message=text, siwe_signature=signature) == user
    # Replayed, or someone else's credentials: not ours to accept.
    assert authenticate(request, siwe_message=text, siwe_signature=signature) is None
    assert authenticate(request, email=user.email, password="wrong") is None


def test_login_refuses_a_disabled_account():
    user, key = UserFactory(), new_key()
    link(user, key)
    user.is_active = False
    user.save(update_fields=["is_active"])
    text, signature = signed(key, purpose=SiweNonce.Purpose.LOGIN)
    refused("account_disabled", wallet_login, message=text, signature=signature, request_host=HOST)


def test_login_redirect_stays_on_this_site(client):
    user, key = UserFactory(), new_key()
    link(user, key)
    text, signature = signed(key, purpose=SiweNonce.Purpose.LOGIN)
    response = client.post(
        "/wallet/login/",
        {"message": text, "signature": signature, "next": "https://evil.example/"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["redirect"] == "/"


# ------------------------------------------------------------------------------ unlinking


def test_unlinking_moves_primary_to_the_next_wallet_and_stops_its_logins():
    user, k1, k2, k3 = UserFactory(), new_key(), new_key(), new_key()
    w1, w2, w3 = link(user, k1), link(user, k2), link(user, k3)

    assert wallet_unlink(user=user, wallet=w2) is None  # not primary: nothing moves
    successor = wallet_unlink(user=user, wallet=w1)
    assert successor.pk == w3.pk and Wallet.objects.get(pk=w3.pk).is_primary
    assert wallet_unlink(user=user, wallet=w3) is None
    assert not Wallet.objects.filter(user=user).exists()

    text, signature = signed(k1, purpose=SiweNonce.Purpose.LOGIN)
    refused("wallet_not_linked", wallet_login, message=text, signature=signature, request_host=HOST)

    # Relinking after unlinking works, and becomes primary again.
    assert link(user, k1).is_primary


def test_set_primary_and_other_users_wallets_are_not_found():
    user, other = UserFactory(), UserFactory()
    w1, w2 = link(user, new_key()), link(user, new_key())
    wallet_set_primary(user=user, wallet=w2)
    assert list(Wallet.objects.filter(user=user, is_primary=True)) == [w2]
    with pytest.raises(NotFoundError):
        wallet_set_primary(user=other, wallet=w1)
    with pytest.raises(NotFoundError):
        wallet_unlink(user=other, wallet=w1)
    assert Wallet.objects.filter(pk=w1.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_of_one_message_link_once():
    user, key = UserFactory(), new_key()
    text, signature = signed(key, user=user)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        barrier.wait()
        try:
            wallet_link(user=user, message=text, signature=signature, request_host=HOST)
            results.append("linked")
        except ApplicationError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["linked"] + ["siwe_nonce_used"] * 3
    assert Wallet.objects.filter(user=user).count() == 1


# --------------------------------------------------------------------- contract wallets

CONTRACT_WALLET_SOURCE = """
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// A minimal ERC-1271 wallet for tests: accepts signatures by its owner's key.
contract TestContractWallet {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        address signer = ecrecover(hash, v, r, s);
        return signer != address(0) && signer == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}
"""


def _erc1271_artifact() -> tuple[list, str] | None:
    """A committed contract-wallet test artifact (isValidSignature + constructor(address))."""
    for name in artifact_names():
        artifact = load_artifact(name)
        functions = {item.get("name") for item in artifact.abi if item.get("type") == "function"}
        constructors = [item for item in artifact.abi if item.get("type") == "constructor"]
        takes_owner = [p["type"] for p in (constructors[0]["inputs"] if constructors else [])]
        if "isValidSignature" in functions and takes_owner == ["address"]:
            return artifact.abi, artifact.bytecode
    return None


def _compile_contract_wallet() -> tuple[list, str]:
    """Compile CONTRACT_WALLET_SOURCE with the project's solcjs (contracts/node_modules)."""
    node = shutil.which("node")
    if node is None or not (CONTRACTS_DIR / "node_modules" / "solc").is_dir():
        require_or_skip(
            "no contract-wallet artifact, and node + solc (npm ci --prefix contracts) missing"
        )
    standard_json = {
        "language": "Solidity",
        "sources": {"TestContractWallet.sol": {"content": CONTRACT_WALLET_SOURCE}},
        "settings": {
            "evmVersion": "cancun",
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    script = (
        "const solc = require('solc');"
        "const input = require('fs').readFileSync(0, 'utf8');"
        "process.stdout.write(solc.compile(input));"
    )
    done = subprocess.run(
        [node, "-e", script],
        input=json.dumps(standard_json),
        cwd=CONTRACTS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    output = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    compiled = output["contracts"]["TestContractWallet.sol"]["TestContractWallet"]
    return compiled["abi"], "0x" + compiled["evm"]["bytecode"]["object"]


@pytest.fixture(scope="module")
def contract_wallet(anvil):
    """(address, owner key) of an ERC-1271 wallet deployed on the module's anvil."""
    abi, bytecode = _erc1271_artifact() or _compile_contract_wallet()
    client = ChainClient(anvil.rpc_url, expected_chain_id=anvil.chain_id)
    owner_key = new_key()
    factory = client.w3.eth.contract(abi=abi, bytecode=bytecode)
    receipt = client.transact(factory.constructor(address_of(owner_key)), key=KEYS[0])
    return client.to_checksum(receipt["contractAddress"]), owner_key


def test_contract_wallet_signatures_are_checked_with_erc1271(contract_wallet):
    address, owner_key = contract_wallet
    user = UserFactory()
    # Signed by someone who does not own the contract wallet.
    text, signature = signed(new_key(), user=user, address=address)
    refused(
        "siwe_bad_signature",
        wallet_link,
        user=user,
        message=text,
        signature=signature,
        request_host=HOST,
    )
    # Signed by its owner: no key recovers to the contract's address, ERC-1271 says yes.
    text, signature = signed(owner_key, user=user, address=address)
    wallet = wallet_link(user=user, message=text, signature=signature, request_host=HOST)
    assert (wallet.address, wallet.is_contract, wallet.is_primary) == (address, True, True)

    text, signature = signed(owner_key, purpose=SiweNonce.Purpose.LOGIN, address=address)
    assert wallet_login(message=text, signature=signature, request_host=HOST) == user


def test_signature_check_needs_the_chain_for_unrecovered_signatures(settings):
    user, key = UserFactory(), new_key()
    text, signature = signed(key, user=user, signer=new_key())
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # nothing listens there
    error = refused(
        "chain_unavailable",
        wallet_link,
        user=user,
        message=text,
        signature=signature,
        request_host=HOST,
    )
    assert error.status_code == 503
    # A key's own signature needs no chain at all.
    text, signature = signed(key, user=user)
    assert wallet_link(user=user, message=text, signature=signature, request_host=HOST)
