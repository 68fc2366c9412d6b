"""Real Python MCP clients from PyPI against the plugin, driven by tests/js/clients.test.mjs:

    python run.py sdk|sdk-restore|sdk-snapshot|fastmcp|fastmcp-oauth MCP_URL COOKIE [REDIRECT_URI]

`sdk` is the `mcp` SDK's Client, `fastmcp` fastmcp's Client, each in its default
mode="auto" (server/discover first, initialize only as a fallback). Each signs in
headlessly (signin.py), lists the tools, calls get_server_info and prints one JSON line:
{protocolVersion, tools, call: {isError, structured}}. `fastmcp-oauth` does the same through
fastmcp's own OAuth helper (its redirect URI, callback server and cookie-less probe of the
authorization URL), with approve() as the browser it opens. `sdk-restore` restores a backup,
confirming through MRTR. `sdk-snapshot` takes the demo camera's picture (device 12):
{protocolVersion, isError, images: the image contents' MIME types}. The Node test checks
the wire through its recording proxy."""

import asyncio
import base64
import json
import os
import sys
import threading
import time
import traceback
import webbrowser

import httpx2

from signin import REDIRECT_URI, approve, oauth_provider

# Scrypted refuses request bodies over 100 KB: the zip travels in chunks of 64 KiB.
CHUNK = 65536


async def sdk(url: str, cookie: str, redirect_uri: str) -> dict:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    auth = oauth_provider(url, cookie, "python-mcp-sdk", redirect_uri)
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="auto") as client:
            tools = await client.list_tools()
            result = await client.call_tool("get_server_info", {})
            return {
                "protocolVersion": client.protocol_version,
                "tools": [t.name for t in tools.tools],
                "call": {"isError": bool(result.is_error), "structured": result.structured_content},
            }


async def sdk_restore(url: str, cookie: str, redirect_uri: str) -> dict:
    """create_backup, then restore_backup of that zip in 64 KiB chunks; the confirmation
    arrives as an InputRequiredResult (MRTR) that the SDK answers through `elicit`."""
    import hashlib

    import mcp_types as types
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    asked: list[str] = []

    async def elicit(context, params):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"decision": "RESTORE"})

    auth = oauth_provider(url, cookie, "python-mcp-sdk-restore", redirect_uri)
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode="auto", elicitation_callback=elicit) as client:
            backup = await client.call_tool("create_backup", {})
            blob = next(c.resource.blob for c in backup.content if c.type == "resource")
            data = base64.b64decode(blob)
            chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
            upload = None
            for i, chunk in enumerate(chunks):
                args = {
                    "confirm": "RESTORE FROM BACKUP",
                    "chunk_base64": base64.b64encode(chunk).decode(),
                    "chunk_index": i,
                    "total_chunks": len(chunks),
                }
                if upload:
                    args["upload_id"] = upload
                if i == len(chunks) - 1:
                    args["sha256"] = hashlib.sha256(data).hexdigest()
                result = await client.call_tool("restore_backup", args)
                upload = (result.structured_content or {}).get("upload_id", upload)
            return {
                "protocolVersion": client.protocol_version,
                "asked": asked,
                "sha256": hashlib.sha256(data).hexdigest(),
                "call": {"isError": bool(result.is_error), "structured": result.structured_content},
            }


async def sdk_snapshot(url: str, cookie: str, redirect_uri: str) -> dict:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    auth = oauth_provider(url, cookie, "python-mcp-sdk-snapshot", redirect_uri)
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="auto") as client:
            result = await client.call_tool("get_camera_snapshot", {"id": "12"})
            return {
                "protocolVersion": client.protocol_version,
                "isError": bool(result.is_error),
                "images": [c.mime_type for c in result.content if c.type == "image"],
            }


async def fastmcp(url: str, cookie: str, redirect_uri: str) -> dict:
    return await fastmcp_tools(url, oauth_provider(url, cookie, "fastmcp", redirect_uri))


async def fastmcp_tools(url: str, auth) -> dict:
    from fastmcp import Client

    async with Client(url, auth=auth) as client:
        tools = await client.list_tools()
        result = await client.call_tool("get_server_info", {})
        return {
            "protocolVersion": client.protocol_version,
            "tools": [t.name for t in tools],
            "call": {"isError": bool(result.is_error), "structured": result.structured_content},
        }


class ApprovingBrowser(webbrowser.BaseBrowser):
    """The browser fastmcp's OAuth helper opens (it calls webbrowser.open; the stdlib's
    register() is the hook): the user approves (approve(), with the login cookie) and the
    browser follows the redirect to fastmcp's callback server. That server starts only
    after open() returns, so this runs in a thread and retries until it answers."""

    def __init__(self, cookie: str) -> None:
        super().__init__("approve")
        self.cookie = cookie

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        threading.Thread(target=self.sign_in, args=(url,), daemon=True).start()
        return True

    def sign_in(self, url: str) -> None:
        try:
            callback = asyncio.run(approve(url, self.cookie))
            for _ in range(100):
                try:
                    httpx2.get(callback, timeout=10).raise_for_status()
                    return
                except httpx2.ConnectError:
                    time.sleep(0.1)
            raise RuntimeError(f"fastmcp's callback server never answered at {callback}")
        except Exception:
            # A browser has no way to fail the client: without this it would wait out its
            # callback timeout.
            traceback.print_exc()
            os._exit(3)


async def fastmcp_oauth(url: str, cookie: str, _redirect_uri: str) -> dict:
    from fastmcp.client.auth import OAuth

    webbrowser.register("approve", None, ApprovingBrowser(cookie), preferred=True)
    # Tokens in memory (its default: nothing written under the home directory); a callback
    # that never comes fails in 30 s instead of its 300.
    return await fastmcp_tools(url, OAuth(client_name="fastmcp-oauth", callback_timeout=30))


def main() -> None:
    which, url, cookie = sys.argv[1:4]
    redirect_uri = sys.argv[4] if len(sys.argv) > 4 else REDIRECT_URI
    run = {
        "sdk": sdk,
        "sdk-restore": sdk_restore,
        "sdk-snapshot": sdk_snapshot,
        "fastmcp": fastmcp,
        "fastmcp-oauth": fastmcp_oauth,
    }[which]
    print(json.dumps(asyncio.run(run(url, cookie, redirect_uri))), flush=True)


if __name__ == "__main__":
    main()
