// Real MCP clients from the registries against the real wasm + shim in the dev host, each
// signed in headlessly by its language's one sign-in helper (helpers/oauth.mjs approve(),
// tests/clients/python/signin.py), behind a recording proxy that shows what crossed the wire:
// - Python `mcp` 2.3.0 and fastmcp 4.2.3 (PyPI, installed by helpers/python.mjs) connect in
//   2026-07-28: server/discover answered at once, no initialize, no session, no 400 fallback;
// - the TypeScript SDK 1.32.2 in legacy mode keeps its one session over a 2-hour idle (clock
//   moved, token expired) and a plugin reload (the worker restarts from dist/plugin.zip).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, connectSdkClient } from './helpers/oauth.mjs';
import { startRecordingProxy } from './helpers/proxy.mjs';
import { ensurePythonClients, runPythonClient } from './helpers/python.mjs';
import { resultJson } from './helpers/tools.mjs';

const MODERN = '2026-07-28';
const HOUR = 60 * 60 * 1000;

/** The proxy's log of /mcp requests. */
const mcpLog = (proxy) => proxy.log.filter((e) => e.path.endsWith('/mcp'));

/**
 * What a modern client must have sent: after the one unauthenticated 401 that starts its
 * sign-in, server/discover answered 200 first, every request at 2026-07-28 with no session,
 * and never initialize nor a 400.
 */
function assertModernWire(proxy) {
  const log = mcpLog(proxy);
  const authorized = log.filter((e) => e.status !== 401);
  assert.ok(authorized.length >= 3, JSON.stringify(log));
  assert.deepEqual(authorized[0].rpc, ['server/discover'], JSON.stringify(log));
  assert.equal(authorized[0].status, 200, 'the first request succeeds: no fallback');
  for (const e of authorized) {
    assert.ok(!e.rpc.includes('initialize'), `initialize on the wire: ${JSON.stringify(e)}`);
    assert.equal(e.version, MODERN, JSON.stringify(e));
    assert.equal(e.sessionId, null, JSON.stringify(e));
    assert.ok(e.status < 400, JSON.stringify(e));
  }
  assert.ok(authorized.some((e) => e.rpc.includes('tools/list')));
  assert.ok(authorized.some((e) => e.rpc.includes('tools/call')));
}

function assertToolsAndCall(out) {
  assert.equal(out.protocolVersion, MODERN);
  assert.equal(out.tools.length, 41, out.tools.join(', '));
  assert.ok(out.tools.includes('restore_backup'));
  assert.equal(out.call.isError, false);
  assert.equal(typeof out.call.structured.version, 'string');
  assert.equal(out.call.structured.env.SCRYPTED_ADMIN_TOKEN, '[REDACTED]');
}

describe('real clients from the registries', () => {
  let host;
  let cookie;
  let python;
  let proxy;
  before(async () => {
    const t = Date.now();
    python = await ensurePythonClients();
    console.error(`[clients] python clients ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    ({ host, cookie } = await startLoggedIn());
  });
  after(async () => {
    await proxy?.close();
    await host?.stop();
  });

  for (const [which, name] of [
    ['sdk', 'Python mcp 2.3.0'],
    ['fastmcp', 'fastmcp 4.2.3'],
  ]) {
    test(`${name} connects in 2026-07-28, lists the tools and calls one`, async () => {
      proxy = await startRecordingProxy(host.baseUrl);
      try {
        const out = await runPythonClient(python, [which, proxy.view(host).mcpUrl, cookie]);
        assertToolsAndCall(out);
        assertModernWire(proxy);
      } finally {
        await proxy.close();
        proxy = undefined;
      }
    });
  }

  test('TypeScript SDK 1.32.2 (legacy) keeps its session over a 2-hour idle and a plugin reload', async () => {
    proxy = await startRecordingProxy(host.baseUrl);
    const { client, transport } = await connectSdkClient(proxy.view(host).mcpUrl, cookie, { name: 'ts-legacy' });
    try {
      assert.notEqual(transport.protocolVersion, MODERN);
      const session = transport.sessionId;
      assert.ok(session);
      const call = async () => {
        const r = await client.callTool({ name: 'get_server_info', arguments: {} });
        assert.notEqual(r.isError, true, JSON.stringify(r));
        assert.equal(resultJson(r).env.SCRYPTED_ADMIN_TOKEN, '[REDACTED]');
      };
      await call();

      await host.advanceClock(2 * HOUR);
      await call();
      assert.equal((await client.listTools()).tools.length, 41);

      await host.reload();
      await call();

      assert.equal(transport.sessionId, session, 'the same session throughout');
      const log = mcpLog(proxy);
      // (Its first initialize, before it signed in, was a 401.)
      const initialized = log.filter((e) => e.rpc.includes('initialize') && e.status === 200);
      assert.equal(initialized.length, 1, 'never re-initialized');
      assert.deepEqual(log.filter((e) => e.status === 404 || e.status === 400), [], 'no request failed');
      // The idle hours expired the access token: the SDK refreshed it on the 401 and retried.
      assert.ok(log.some((e) => e.path.endsWith('/mcp') && e.status === 401 && e.sessionId === session));
      const posts = log.filter((e) => e.method === 'POST' && !e.rpc.includes('initialize') && e.status === 200);
      assert.ok(posts.length >= 4);
      for (const e of posts) assert.equal(e.sessionId, session, JSON.stringify(e));
    } finally {
      await client.close().catch(() => {});
      await proxy.close();
      proxy = undefined;
    }
  });
});
