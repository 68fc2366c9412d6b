"""The one headless sign-in of the Python client suites: an OAuth provider from the `mcp`
SDK (which fastmcp uses too) whose browser step is `approve()`, with the Scrypted login
cookie the Node test obtained."""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

# Loopback, never served: approve() reads the code from the redirect itself (a test may name
# another, which the server approves only through its consent page).
REDIRECT_URI = "http://127.0.0.1:9/callback"


async def approve(authorization_url: str, cookie: str) -> str:
    """What the user does in the browser: open the authorization URL logged in to Scrypted
    and approve, at once or on the consent page by pressing Approve (its form posted back
    with its hidden fields and CSRF token). Returns the redirect back to the client."""
    async with httpx2.AsyncClient() as http:
        r = await http.get(authorization_url, headers={"cookie": cookie}, follow_redirects=False)
        if r.status_code == 200 and 'method="post"' in r.text:
            form = ConsentForm()
            form.feed(r.text)
            r = await http.post(
                urljoin(authorization_url, form.action),
                data={**form.fields, "decision": "approve"},
                headers={"cookie": cookie},
                follow_redirects=False,
            )
    if r.status_code != 302:
        raise RuntimeError(f"/authorize answered {r.status_code}, expected a 302: {r.text[:300]}")
    return r.headers["location"]


class ConsentForm(HTMLParser):
    """The consent page's form: its action and hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action") or ""
        elif tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""


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
