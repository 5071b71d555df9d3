"""Security headers on every response, and no caching of anything that may carry patient data.

- CSP: scripts only from our own static files (the templates hold no inline script or event
  handler; tests/web/test_security_headers.py checks). Styles allow 'unsafe-inline': a few
  templates carry `<style>` blocks and `style` attributes (grid placement in the calendar,
  the print sheet shared with the PDF), and Jinja's escaping already keeps visitors' text out
  of markup, so the added risk is small. The Swagger page (/api/v1/docs) loads its script from
  a CDN and runs an inline bootstrap, so it alone gets a looser policy; it holds no patient data.
- Cache-Control: no-store on everything but /static/ and /healthz: pages, API answers, images,
  PDFs and .ics files all may carry patient data.
- HSTS only when the request came over TLS (behind a proxy, run uvicorn with proxy headers).
- The flash cookie is set by `templating.redirect`, which has no request; it is marked Secure
  here whenever the session cookie is (`MESOCLINIC_COOKIE_SECURE`).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'"
)
DOCS_PATH = "/api/v1/docs"
CACHEABLE_PREFIXES = ("/static/", "/healthz")
HSTS = "max-age=31536000; includeSubDomains"
FLASH_COOKIE = b"mc_flash="


class SecurityHeaders:
    """Pure ASGI middleware (no buffering, so streamed downloads stay streamed)."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._headers(list(message.get("headers", [])), path, tls)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(
        self, headers: list[tuple[bytes, bytes]], path: str, tls: bool
    ) -> list[tuple[bytes, bytes]]:
        if self.secure_cookies:
            headers = [
                (k, v + b"; Secure")
                if k == b"set-cookie" and v.startswith(FLASH_COOKIE) and b"secure" not in v.lower()
                else (k, v)
                for k, v in headers
            ]
        replaced = {b"content-security-policy", b"x-content-type-options", b"referrer-policy"}
        replaced |= {b"x-frame-options", b"strict-transport-security"}
        added: dict[bytes, bytes] = {
            b"content-security-policy": (DOCS_CSP if path == DOCS_PATH else CSP).encode(),
            b"x-content-type-options": b"nosniff",
            b"referrer-policy": b"same-origin",
            b"x-frame-options": b"DENY",
        }
        if tls:
            added[b"strict-transport-security"] = HSTS.encode()
        if not path.startswith(CACHEABLE_PREFIXES):
            replaced.add(b"cache-control")
            added[b"cache-control"] = b"no-store"
        kept = [(k, v) for k, v in headers if k.lower() not in replaced]
        return kept + list(added.items())
