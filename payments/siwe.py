"""Sign-In with Ethereum (EIP-4361): build, parse strictly and verify messages.

No `siwe` package (it pins web3 < 8 and eth-account < 0.14): the message format is small, and
eth_account recovers EIP-191 signatures. Contract wallets are checked with ERC-1271 through
payments.chain.signatures. Decisions and the nonce lifecycle: docs/decisions/0007-siwe.md.

Every refusal is a `SiweError` (an ApplicationError) with a specific code:

    siwe_malformed          the text is not an EIP-4361 message (or not one we issue)
    siwe_domain_mismatch    signed for another site (domain or URI)
    siwe_wrong_chain        signed for another chain id
    siwe_expired            the message or its nonce has expired
    siwe_not_yet_valid      "Not Before" (or "Issued At") is in the future
    siwe_nonce_unknown      we never issued this nonce (for this purpose and account)
    siwe_nonce_used         the nonce was already used: sign a fresh message
    siwe_bad_signature      the signature is not the address's
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from eth_account import Account
from eth_account.messages import defunct_hash_message, encode_defunct
from eth_utils import is_checksum_address, to_checksum_address

from agentnexus.core.errors import ApplicationError
from payments.chain.client import ChainClient, ChainError
from payments.chain.signatures import ContractSignature, erc1271_check
from payments.models import SiweNonce

VERSION = "1"
HEADER_SUFFIX = " wants you to sign in with your Ethereum account:"
# Messages and signatures larger than this are refused before any parsing or cryptography.
MAX_MESSAGE_CHARS = 4000
MAX_SIGNATURE_BYTES = 4096  # contract wallets (e.g. multisigs) may return long signatures
# Clock skew tolerated between the wallet's clock and ours for "Issued At" / "Not Before".
CLOCK_SKEW = dt.timedelta(minutes=2)
# secp256k1 group order: an ECDSA `s` above half of it is the malleable twin (EIP-2).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# --- Grammar pieces (EIP-4361 ABNF, RFC 3986, RFC 3339) ----------------------------------------
_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*"
# authority without userinfo: a DNS name, an IPv4 address or a bracketed IPv6 literal, then a port.
_AUTHORITY = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
_HEADER_RE = re.compile(
    rf"^(?:(?P<scheme>{_SCHEME})://)?(?P<domain>{_AUTHORITY}){re.escape(HEADER_SUFFIX)}$"
)
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
# statement = *( reserved / unreserved / " " ): no line breaks, no quotes, no non-ASCII.
_STATEMENT_RE = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;= ]+$")
_URI_RE = re.compile(rf"^{_SCHEME}:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
_CHAIN_ID_RE = re.compile(r"^[0-9]{1,20}$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9]{8,64}$")
_DATETIME_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+\-][0-9]{2}:[0-9]{2})$"
)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@%]*$")

STATEMENTS = {
    SiweNonce.Purpose.LINK: "Link this wallet to your AgentNexus account.",
    SiweNonce.Purpose.LOGIN: "Log in to AgentNexus with this wallet.",
}


class SiweError(ApplicationError):
    """A Sign-In with Ethereum message or signature was refused (see the module docstring)."""

    code = "siwe_malformed"
    status_code = 400


class ChainUnavailableError(ApplicationError):
    """A contract wallet's signature could not be checked: the chain node did not answer."""

    code = "chain_unavailable"
    status_code = 503


@dataclass(frozen=True)
class SiweMessage:
    """The fields of one EIP-4361 message. `text()` renders it exactly as the ABNF lays it out."""

    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    statement: str | None = None
    version: str = VERSION
    scheme: str | None = None
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default_factory=tuple)

    def text(self) -> str:
        header = f"{self.scheme}://{self.domain}" if self.scheme else self.domain
        lines = [header + HEADER_SUFFIX, self.address, ""]
        if self.statement is not None:
            lines.append(self.statement)
        lines += [
            "",
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {self.issued_at}",
        ]
        if self.expiration_time is not None:
            lines.append(f"Expiration Time: {self.expiration_time}")
        if self.not_before is not None:
            lines.append(f"Not Before: {self.not_before}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines.append("Resources:")
            lines += [f"- {resource}" for resource in self.resources]
        return "\n".join(lines)


@dataclass(frozen=True)
class SiweTemplate:
    """Everything of a message the server decides; the wallet's address completes it."""

    domain: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    expiration_time: str
    statement: str
    version: str = VERSION

    def message(self, *, address: str) -> SiweMessage:
        """The message for `address` (any case; written with its EIP-55 checksum)."""
        if not isinstance(address, str) or not _ADDRESS_RE.match(address):
            raise SiweError(
                "That is not an Ethereum address (0x followed by 40 hex digits).",
                fields={"address": ["Enter a 0x-prefixed 20-byte hex address."]},
            )
        return SiweMessage(
            domain=self.domain,
            address=to_checksum_address(address),
            statement=self.statement,
            uri=self.uri,
            version=self.version,
            chain_id=self.chain_id,
            nonce=self.nonce,
            issued_at=self.issued_at,
            expiration_time=self.expiration_time,
        )

    def as_dict(self) -> dict[str, str | int]:
        return {
            "domain": self.domain,
            "uri": self.uri,
            "version": self.version,
            "chain_id": self.chain_id,
            "nonce": self.nonce,
            "issued_at": self.issued_at,
            "expiration_time": self.expiration_time,
            "statement": self.statement,
        }


@dataclass(frozen=True)
class VerifiedSignIn:
    """A message whose checks all passed and whose nonce is now used."""

    address: str
    message: SiweMessage
    is_contract: bool


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with a Z, to the second (e.g. 2026-11-21T19:37:00Z)."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _malformed(problem: str) -> SiweError:
    return SiweError(f"The sign-in message is malformed: {problem}.", code="siwe_malformed")


def _parse_time(value: str, name: str) -> dt.datetime:
    if not _DATETIME_RE.match(value):
        raise _malformed(f"“{name}” is not an RFC 3339 date-time")
    # Python parses at most 6 fractional digits; the extra precision is meaningless here.
    value = re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", value)
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _malformed(f"“{name}” is not a valid date-time") from None


class _Lines:
    """The message's lines, consumed in order: every field must be exactly where the ABNF puts it."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.index = 0

    def done(self) -> bool:
        return self.index >= len(self.lines)

    def peek(self) -> str | None:
        return None if self.done() else self.lines[self.index]

    def take(self, what: str) -> str:
        if self.done():
            raise _malformed(f"it ends before {what}")
        line = self.lines[self.index]
        self.index += 1
        return line

    def field(self, label: str) -> str:
        line = self.take(f"the “{label}” line")
        prefix = f"{label}: "
        if not line.startswith(prefix):
            raise _malformed(f"line {self.index} should start with “{prefix}”")
        return line[len(prefix) :]

    def optional_field(self, label: str) -> str | None:
        line = self.peek()
        if line is not None and line.startswith(f"{label}: "):
            return self.field(label)
        return None


def siwe_parse(text: str) -> SiweMessage:
    """Parse an EIP-4361 message strictly, line by line. Raises SiweError("siwe_malformed")."""
    if not isinstance(text, str) or not text:
        raise _malformed("it is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise _malformed(f"it is longer than {MAX_MESSAGE_CHARS} characters")
    if "\r" in text:
        raise _malformed("lines must end with LF only, not CR LF")
    lines = _Lines(text)

    header = _HEADER_RE.match(lines.take("the first line"))
    if header is None:
        raise _malformed(
            "the first line should read “<domain> wants you to sign in with your Ethereum account:”"
        )
    address = lines.take("the address")
    if not _ADDRESS_RE.match(address):
        raise _malformed("line 2 should be the 0x-prefixed address")
    if not is_checksum_address(address):
        raise _malformed("the address is not written with its EIP-55 checksum")
    if lines.take("the blank line after the address") != "":
        raise _malformed("line 3 should be empty")

    statement: str | None = None
    line = lines.take("the statement or a blank line")
    if line != "":
        if not _STATEMENT_RE.match(line):
            raise _malformed("the statement may only contain URI characters and spaces")
        statement = line
        if lines.take("the blank line after the statement") != "":
            raise _malformed("the statement must be followed by an empty line")

    uri = lines.field("URI")
    if not _URI_RE.match(uri):
        raise _malformed("“URI” is not an RFC 3986 URI")
    version = lines.field("Version")
    if version != VERSION:
        raise _malformed("“Version” must be 1")
    chain_id = lines.field("Chain ID")
    if not _CHAIN_ID_RE.match(chain_id):
        raise _malformed("“Chain ID” must be a number")
    nonce = lines.field("Nonce")
    if not _NONCE_RE.match(nonce):
        raise _malformed("“Nonce” must be 8 to 64 letters and digits")
    issued_at = lines.field("Issued At")
    _parse_time(issued_at, "Issued At")
    expiration_time = lines.optional_field("Expiration Time")
    if expiration_time is not None:
        _parse_time(expiration_time, "Expiration Time")
    not_before = lines.optional_field("Not Before")
    if not_before is not None:
        _parse_time(not_before, "Not Before")
    request_id = lines.optional_field("Request ID")
    if request_id is not None and not _REQUEST_ID_RE.match(request_id):
        raise _malformed("“Request ID” contains characters a URI path may not")
    resources: list[str] = []
    if lines.peek() == "Resources:":
        lines.take("Resources")
        while not lines.done():
            line = lines.take("a resource")
            if not line.startswith("- ") or not _URI_RE.match(line[2:]):
                raise _malformed("each resource must be a line “- <URI>”")
            resources.append(line[2:])
    if not lines.done():
        raise _malformed(f"unexpected text on line {lines.index + 1}")

    return SiweMessage(
        scheme=header.group("scheme"),
        domain=header.group("domain"),
        address=address,
        statement=statement,
        uri=uri,
        version=version,
        chain_id=int(chain_id),
        nonce=nonce,
        issued_at=issued_at,
        expiration_time=expiration_time,
        not_before=not_before,
        request_id=request_id,
        resources=tuple(resources),
    )


def _signature_bytes(signature: str) -> bytes:
    if not isinstance(signature, str) or not re.fullmatch(r"0x(?:[0-9a-fA-F]{2})+", signature):
        raise SiweError(
            "The signature is not a 0x-prefixed hex string.",
            code="siwe_bad_signature",
        )
    raw = bytes.fromhex(signature[2:])
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise SiweError("The signature is too long.", code="siwe_bad_signature")
    return raw


def _recover_eoa(text: str, raw: bytes) -> str | None:
    """The address whose key made this 65-byte EIP-191 signature, or None if it is not one.

    High-`s` (malleable) signatures are refused, as Ethereum transactions refuse them (EIP-2).
    """
    if len(raw) != 65:
        return None
    if int.from_bytes(raw[32:64], "big") > SECP256K1_N // 2:
        return None
    try:
        return Account.recover_message(encode_defunct(text=text), signature=raw)
    except Exception:  # noqa: BLE001 - eth_keys raises several types for an invalid signature
        return None


def _check_fields(message: SiweMessage, *, domain: str, now: dt.datetime) -> None:
    expected = domain.lower()
    if message.domain.lower() != expected:
        raise SiweError(
            f"This message was signed for “{message.domain}”, not for this site ({domain}). "
            "Sign in only on the site named in the message.",
            code="siwe_domain_mismatch",
        )
    if message.scheme is not None and message.scheme.lower() not in ("http", "https"):
        raise SiweError(
            f"This message names the scheme “{message.scheme}”; this site uses http(s).",
            code="siwe_domain_mismatch",
        )
    uri = urlsplit(message.uri)
    if uri.scheme.lower() not in ("http", "https") or uri.netloc.lower() != expected:
        raise SiweError(
            f"This message's URI ({message.uri}) is not on this site ({domain}).",
            code="siwe_domain_mismatch",
        )
    if message.chain_id != settings.CHAIN_ID:
        raise SiweError(
            f"This message was signed for chain {message.chain_id}, but this site uses chain "
            f"{settings.CHAIN_ID}. Switch your wallet's network and sign again.",
            code="siwe_wrong_chain",
        )
    expires = message.expiration_time
    if expires is not None and _parse_time(expires, "Expiration Time") <= now:
        raise SiweError(
            "This sign-in message has expired. Start again to get a fresh one.",
            code="siwe_expired",
        )
    not_before = message.not_before
    if not_before is not None and _parse_time(not_before, "Not Before") > now + CLOCK_SKEW:
        raise SiweError(
            "This sign-in message is not valid yet (its “Not Before” time is in the future).",
            code="siwe_not_yet_valid",
        )
    if _parse_time(message.issued_at, "Issued At") > now + CLOCK_SKEW:
        raise SiweError(
            "This sign-in message claims to be issued in the future. Check your device's clock.",
            code="siwe_not_yet_valid",
        )


def _check_signature(message: SiweMessage, text: str, raw: bytes) -> bool:
    """True for a contract wallet (ERC-1271), False for a key (EOA); SiweError if neither."""
    if _recover_eoa(text, raw) == message.address:
        return False
    try:
        client = ChainClient(settings.CHAIN_RPC_URL, expected_chain_id=settings.CHAIN_ID, timeout=5)
        result = erc1271_check(
            client,
            address=message.address,
            message_hash=bytes(defunct_hash_message(text=text)),
            signature=raw,
        )
    except ChainError as exc:
        raise ChainUnavailableError(
            "The signature could not be checked because the chain node is not answering. "
            "Try again in a minute."
        ) from exc
    if result is ContractSignature.VALID:
        return True
    raise SiweError(
        f"The signature was not made by {message.address}. Sign with that account in your "
        "wallet, or connect the account you signed with.",
        code="siwe_bad_signature",
    )


def _nonce_consume(*, nonce: str, purpose: str, user_id: int | None, now: dt.datetime) -> None:
    """Mark the nonce used, atomically: one UPDATE that only matches an unused, unexpired nonce
    issued for this purpose (and account). Two concurrent uses: exactly one gets the row."""
    owner = Q(user_id=user_id) if user_id is not None else Q(user__isnull=True)
    issued = SiweNonce.objects.filter(owner, nonce=nonce, purpose=purpose)
    if issued.filter(used_at__isnull=True, expires_at__gt=now).update(used_at=now) == 1:
        return
    row = issued.values("used_at", "expires_at").first()
    if row is None:
        raise SiweError(
            "This sign-in message was not issued by this site (unknown nonce). Start again.",
            code="siwe_nonce_unknown",
        )
    if row["used_at"] is not None:
        raise SiweError(
            "This sign-in message was already used. Each message works once: start again.",
            code="siwe_nonce_used",
        )
    raise SiweError(
        "This sign-in message has expired. Start again to get a fresh one.",
        code="siwe_expired",
    )


def siwe_verify(
    *,
    message: str,
    signature: str,
    purpose: str,
    domain: str,
    user_id: int | None = None,
) -> VerifiedSignIn:
    """Check a signed EIP-4361 message and use up its nonce.

    Checks, in order: the grammar; domain and URI against `domain` (the request's host);
    chain id against settings.CHAIN_ID; expiration, not-before and issued-at against now; the
    signature (EIP-191 recovery for a key, else ERC-1271 if the address holds code); last, the
    nonce: issued for `purpose` (and for `user_id`, when linking), unused and unexpired, marked
    used in the same statement that checks it. A message therefore works at most once.
    """
    now = timezone.now()
    parsed = siwe_parse(message)
    _check_fields(parsed, domain=domain, now=now)
    is_contract = _check_signature(parsed, message, _signature_bytes(signature))
    _nonce_consume(nonce=parsed.nonce, purpose=purpose, user_id=user_id, now=now)
    return VerifiedSignIn(address=parsed.address, message=parsed, is_contract=is_contract)
