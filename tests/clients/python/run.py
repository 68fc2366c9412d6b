"""Real Python MCP clients from PyPI against the plugin, driven by tests/js/clients.test.mjs:

    python run.py sdk|fastmcp MCP_URL COOKIE

`sdk` is the `mcp` SDK's Client, `fastmcp` fastmcp's Client, each in its default
mode="auto" (server/discover first, initialize only as a fallback). Each signs in
headlessly (signin.py), lists the tools, calls get_server_info and prints one JSON line:
{protocolVersion, tools, call: {isError, structured}}. The Node test checks the wire
through its recording proxy."""

import asyncio
import json
import sys

import httpx2

from signin import oauth_provider


async def sdk(url: str, cookie: str) -> dict:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    auth = oauth_provider(url, cookie, "python-mcp-sdk")
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="auto") as client:
            tools = await client.list_tools()
            result = await client.call_tool("get_server_info", {})
            return {
                "protocolVersion": client.protocol_version,
                "tools": [t.name for t in tools.tools],
                "call": {"isError": bool(result.is_error), "structured": result.structured_content},
            }


async def fastmcp(url: str, cookie: str) -> dict:
    from fastmcp import Client

    async with Client(url, auth=oauth_provider(url, cookie, "fastmcp")) as client:
        tools = await client.list_tools()
        result = await client.call_tool("get_server_info", {})
        return {
            "protocolVersion": client.protocol_version,
            "tools": [t.name for t in tools],
            "call": {"isError": bool(result.is_error), "structured": result.structured_content},
        }


def main() -> None:
    which, url, cookie = sys.argv[1:4]
    run = {"sdk": sdk, "fastmcp": fastmcp}[which]
    print(json.dumps(asyncio.run(run(url, cookie))), flush=True)


if __name__ == "__main__":
    main()
