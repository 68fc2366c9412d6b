"""The one headless sign-in of the Python client suites: an OAuth provider from the `mcp`
SDK (which fastmcp uses too) whose browser step is `approve()`, with the Scrypted login
cookie the Node test obtained."""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

# Loopback, never served: approve() reads the code from the redirect itself (a test may name
# another).
REDIRECT_URI = "http://127.0.0.1:9/callback"


async def approve(authorization_url: str, cookie: str) -> str:
    """What the user does in the browser: open the authorization URL logged in to Scrypted
    and approve, on the consent page when one is shown (every scope it offers ticked), as
    tests/js/helpers/oauth.mjs approveConsent() does. Returns the redirect back to the
    client (code, state, iss)."""
    async with httpx2.AsyncClient() as http:
        r = await http.get(authorization_url, headers={"cookie": cookie}, follow_redirects=False)
        if r.status_code == 200 and 'name="csrf"' in r.text:
            form = ConsentForm()
            form.feed(r.text)
            fields = list(form.hidden) + [(box, "on") for box in form.boxes]
            fields.append(("decision", "approve"))
            page = urlparse(authorization_url)
            origin = f"{page.scheme}://{page.netloc}"
            r = await http.post(
                urljoin(authorization_url, form.action),
                content=urlencode(fields),
                headers={
                    "cookie": cookie,
                    "content-type": "application/x-www-form-urlencoded",
                    "origin": origin,
                },
                follow_redirects=False,
            )
    if r.status_code != 302:
        raise RuntimeError(f"/authorize answered {r.status_code}, expected a 302: {r.text[:300]}")
    return r.headers["location"]


class ConsentForm(HTMLParser):
    """The consent page's form: hidden fields (the CSRF token among them), scope
    checkboxes, and where it posts."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: list[tuple[str, str]] = []
        self.boxes: list[str] = []
        self.action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden.append((a.get("name", ""), a.get("value", "")))
        elif tag == "input" and a.get("type") == "checkbox":
            self.boxes.append(a.get("name", ""))


class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def oauth_provider(
    mcp_url: str, cookie: str, client_name: str, redirect_uri: str = REDIRECT_URI
) -> OAuthClientProvider:
    redirect: dict[str, str] = {}

    async def open_browser(url: str) -> None:
        redirect["to"] = await approve(url, cookie)

    async def callback() -> AuthorizationCodeResult:
        q = {k: v[0] for k, v in parse_qs(urlparse(redirect.pop("to")).query).items()}
        if "error" in q:
            raise RuntimeError(f"authorization refused: {q}")
        return AuthorizationCodeResult(code=q["code"], state=q.get("state"), iss=q.get("iss"))

    return OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name=client_name,
            redirect_uris=[redirect_uri],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=MemoryStorage(),
        redirect_handler=open_browser,
        callback_handler=callback,
    )
