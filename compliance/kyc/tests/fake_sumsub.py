"""A fake of the Sumsub-style HTTP API on loopback: checks request signatures like the real one
and remembers applicants. Use `with FakeSumsub(secret=...) as fake:` and point
KYC_SUMSUB_BASE_URL at `fake.url`."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeSumsub:
    def __init__(self, *, app_token: str, secret: str) -> None:
        self.app_token = app_token
        self.secret = secret
        self.applicants: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_next: int | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _reply(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append(("POST", self.path))
                if fake.fail_next:
                    status, fake.fail_next = fake.fail_next, None
                    return self._reply(status, {"description": "forced failure"})
                ts = self.headers.get("X-App-Access-Ts", "")
                expected = hmac.new(
                    fake.secret.encode(),
                    ts.encode() + b"POST" + self.path.encode() + body,
                    hashlib.sha256,
                ).hexdigest()
                if self.headers.get("X-App-Token") != fake.app_token or not hmac.compare_digest(
                    self.headers.get("X-App-Access-Sig", ""), expected
                ):
                    return self._reply(401, {"description": "Request signature mismatch"})
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                if url.path == "/resources/applicants":
                    data = json.loads(body)
                    applicant_id = uuid.uuid4().hex[:24]
                    fake.applicants[applicant_id] = {
                        "externalUserId": data["externalUserId"],
                        "levelName": query["levelName"][0],
                        "fixedInfo": data.get("fixedInfo", {}),
                    }
                    return self._reply(201, {"id": applicant_id, **fake.applicants[applicant_id]})
                if url.path == "/resources/accessTokens":
                    return self._reply(
                        200, {"token": "_act-" + uuid.uuid4().hex, "userId": query["userId"][0]}
                    )
                return self._reply(404, {"description": "Not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSumsub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
