"""Real Python MCP clients from PyPI against the plugin, driven by tests/js/clients.test.mjs:

    python run.py sdk|sdk-restore|sdk-snapshot|fastmcp MCP_URL COOKIE [REDIRECT_URI]

`sdk` is the `mcp` SDK's Client, `fastmcp` fastmcp's Client, each in its default
mode="auto" (server/discover first, initialize only as a fallback). Each signs in
headlessly (signin.py), lists the tools, calls get_server_info and prints one JSON line:
{protocolVersion, tools, call: {isError, structured}}. `sdk-restore` restores a backup,
confirming through MRTR. `sdk-snapshot` takes the demo camera's picture (device 12):
{protocolVersion, isError, images: the image contents' MIME types}. The Node test checks
the wire through its recording proxy."""

import asyncio
import base64
import json
import sys

import httpx2

from signin import REDIRECT_URI, oauth_provider

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
    from fastmcp import Client

    async with Client(url, auth=oauth_provider(url, cookie, "fastmcp", redirect_uri)) as client:
        tools = await client.list_tools()
        result = await client.call_tool("get_server_info", {})
        return {
            "protocolVersion": client.protocol_version,
            "tools": [t.name for t in tools],
            "call": {"isError": bool(result.is_error), "structured": result.structured_content},
        }


def main() -> None:
    which, url, cookie = sys.argv[1:4]
    redirect_uri = sys.argv[4] if len(sys.argv) > 4 else REDIRECT_URI
    run = {"sdk": sdk, "sdk-restore": sdk_restore, "sdk-snapshot": sdk_snapshot, "fastmcp": fastmcp}[which]
    print(json.dumps(asyncio.run(run(url, cookie, redirect_uri))), flush=True)


if __name__ == "__main__":
    main()
