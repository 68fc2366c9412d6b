// Real MCP clients from the registries against the real wasm + shim in the dev host, each
// signed in headlessly by its language's one sign-in helper (helpers/oauth.mjs approve(),
// tests/clients/python/signin.py, tests/clients/rmcp approve()), behind a recording proxy
// that shows what crossed the wire:
// - Python `mcp` 2.3.0, fastmcp 4.2.3 (PyPI; with the SDK's OAuth provider and with its own
//   OAuth helper) and rmcp 3.11 (crates.io), installed and built by helpers/clients.mjs,
//   connect in 2026-07-28: server/discover answered at once, no initialize, no session, no
//   400 fallback; Python and rmcp confirm a restore_backup through MRTR (an
//   InputRequiredResult, answered by retrying with inputResponses);
// - the TypeScript SDK 1.32.2 in legacy mode keeps its one session over a 2-hour idle (clock
//   moved, token expired) and a plugin reload (the worker restarts from dist/plugin.zip).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, connectSdkClient, MemoryOAuthProvider } from './helpers/oauth.mjs';
import { startRecordingProxy } from './helpers/proxy.mjs';
import { waitFor } from './helpers/devhost.mjs';
import { ensurePythonClients, ensureRmcpClient, runPythonClient, runRmcpClient } from './helpers/clients.mjs';
import { isRestore, resultJson } from './helpers/tools.mjs';

const MODERN = '2026-07-28';
const HOUR = 60 * 60 * 1000;

/** The proxy's log of /mcp requests. */
const mcpLog = (proxy) => proxy.log.filter((e) => e.path.endsWith('/mcp'));

/**
 * What a modern client must have sent: after the one unauthenticated 401 that starts its
 * sign-in, server/discover answered 200 first and then at least one more request, every
 * request at 2026-07-28 with no session, and never initialize nor a 400. Returns the
 * authorized requests.
 */
function assertModernWire(proxy) {
  const log = mcpLog(proxy);
  const authorized = log.filter((e) => e.status !== 401);
  assert.ok(authorized.length >= 2, JSON.stringify(log));
  assert.deepEqual(authorized[0].rpc, ['server/discover'], JSON.stringify(log));
  assert.equal(authorized[0].status, 200, 'the first request succeeds: no fallback');
  for (const e of authorized) {
    assert.ok(!e.rpc.includes('initialize'), `initialize on the wire: ${JSON.stringify(e)}`);
    assert.equal(e.version, MODERN, JSON.stringify(e));
    assert.equal(e.sessionId, null, JSON.stringify(e));
    assert.ok(e.status < 400, JSON.stringify(e));
  }
  return authorized;
}

function assertToolsAndCall(out) {
  assert.equal(out.protocolVersion, MODERN);
  assert.equal(out.tools.length, 41, out.tools.join(', '));
  assert.ok(out.tools.includes('restore_backup'));
  assert.equal(out.call.isError, false);
  assert.equal(typeof out.call.structured.version, 'string');
  assert.equal(out.call.structured.env.SCRYPTED_ADMIN_TOKEN, '[REDACTED]');
}

/**
 * Runs `client(mcpUrl)` behind a fresh recording proxy; resolves {out, wire} (the /mcp
 * requests after sign-in) and the sign-in's `authorize` requests.
 */
async function throughProxy(host, client) {
  const proxy = await startRecordingProxy(host.baseUrl);
  try {
    const out = await client(proxy.view(host).mcpUrl);
    const authorize = proxy.log.filter((e) => e.path.endsWith('/authorize'));
    return { out, wire: assertModernWire(proxy), authorize };
  } finally {
    await proxy.close();
  }
}

/**
 * Not loopback: a redirect the server follows only once the admin has approved the client on
 * the consent page (which every first sign-in shows, loopback or not).
 */
const CONSENTED_REDIRECT = 'https://client.example/callback';

describe('real clients from the registries', () => {
  let host;
  let cookie;
  let python;
  let rmcp;
  let proxy;
  before(async () => {
    let t = Date.now();
    python = await ensurePythonClients();
    console.error(`[clients] python clients ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    t = Date.now();
    rmcp = await ensureRmcpClient();
    console.error(`[clients] rmcp client ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    ({ host, cookie } = await startLoggedIn());
  });
  after(async () => {
    await proxy?.close();
    await host?.stop();
  });

  // Each client's run (`tools`, `restore` or `snapshot`), optionally naming its redirect URI.
  const modern = {
    'Python mcp 2.3.0': (run, ...redirect) => (url) =>
      runPythonClient(python, [run === 'tools' ? 'sdk' : `sdk-${run}`, url, cookie, ...redirect]),
    'fastmcp 4.2.3': (_, ...redirect) => (url) => runPythonClient(python, ['fastmcp', url, cookie, ...redirect]),
    'rmcp 3.11': (run, ...redirect) => (url) => runRmcpClient(rmcp, [run, url, cookie, ...redirect]),
  };

  for (const [name, client] of Object.entries(modern)) {
    test(`${name} connects in 2026-07-28, lists the tools and calls one`, async () => {
      const { out, wire } = await throughProxy(host, client('tools'));
      assertToolsAndCall(out);
      assert.ok(wire.some((e) => e.rpc.includes('tools/list')));
      assert.ok(wire.some((e) => e.rpc.includes('tools/call')));
    });
  }

  // The one sign-in helper of each language gets through the consent page too.
  for (const name of ['Python mcp 2.3.0', 'rmcp 3.11']) {
    test(`${name}'s sign-in approves on the consent page`, async () => {
      const { out, authorize } = await throughProxy(host, modern[name]('tools', CONSENTED_REDIRECT));
      assertToolsAndCall(out);
      assert.deepEqual(
        authorize.map((e) => `${e.method} ${e.status}`),
        ['GET 200', 'POST 302'],
        'the consent page, then its form approved',
      );
    });
  }

  // fastmcp's helper first GETs the authorization URL without the login cookie and gives up
  // unless it is 200 or 30x: the "log in first" page answers 200 (issue 9). Then the browser
  // it opens, logged in, approves on the consent page.
  // Its helper picks its own redirect URI (a loopback port of its own).
  test("fastmcp 4.2.3's own OAuth helper probes the authorization URL, the browser approves, it lists the tools and calls one", async () => {
    const { out, wire, authorize } = await throughProxy(host, (url) => runPythonClient(python, ['fastmcp-oauth', url, cookie]));
    assertToolsAndCall(out);
    assert.ok(wire.some((e) => e.rpc.includes('tools/list')));
    assert.ok(wire.some((e) => e.rpc.includes('tools/call')));
    assert.deepEqual(
      authorize.map((e) => `${e.method} ${e.status}`),
      ['GET 200', 'GET 200', 'POST 302'],
      'the probe (the login page), then the consent page and its form approved',
    );
  });

  // A camera that takes seconds to answer: the answer streams, keep-alive comments first
  // (2026-07-28 counts a closed stream as cancellation; tests/modern/long_requests.rs).
  for (const name of ['Python mcp 2.3.0', 'rmcp 3.11']) {
    test(`${name} gets an answer that streamed after keep-alive comments`, async () => {
      const { out, wire } = await host.withCamera('12', 'slow', () => throughProxy(host, modern[name]('snapshot')));
      assert.equal(out.protocolVersion, MODERN);
      assert.equal(out.isError, false, JSON.stringify(out));
      assert.deepEqual(out.images, ['image/jpeg']);
      const call = wire.find((e) => e.rpc.includes('tools/call'));
      assert.equal(call.contentType, 'text/event-stream', JSON.stringify(call));
      assert.match(call.answerStart, /^:\n\n/, 'the stream opened with a comment');
    });
  }

  test("the Node suites' sign-in approves on the consent page", async () => {
    const proxy = await startRecordingProxy(host.baseUrl);
    const provider = new MemoryOAuthProvider({ cookie, redirectUrl: CONSENTED_REDIRECT });
    const { client } = await connectSdkClient(proxy.view(host).mcpUrl, cookie, { provider });
    try {
      assert.equal((await client.listTools()).tools.length, 41);
      const authorize = proxy.log.filter((e) => e.path.endsWith('/authorize'));
      assert.deepEqual(authorize.map((e) => `${e.method} ${e.status}`), ['GET 200', 'POST 302']);
    } finally {
      await client.close().catch(() => {});
      await proxy.close();
    }
  });

  for (const name of ['Python mcp 2.3.0', 'rmcp 3.11']) {
    test(`${name} confirms a restore_backup through MRTR`, async () => {
      const before = (await host.state()).restoredBackups.length;
      const { out, wire } = await throughProxy(host, modern[name]('restore'));
      assert.equal(out.protocolVersion, MODERN);
      assert.equal(out.asked.length, 1, `asked once: ${JSON.stringify(out.asked)}`);
      assert.equal(out.call.isError, false, JSON.stringify(out.call));
      // The question came as an InputRequiredResult: exactly one retry carried the answer.
      assert.equal(wire.filter((e) => e.inputResponses).length, 1, JSON.stringify(wire));
      // The tool answered first; then the restore ran, once, with exactly these bytes.
      await waitFor(async () => (await host.state()).restoredBackups.length > before, {
        what: 'the restore to run',
        timeoutMs: 10_000,
      });
      const state = await host.state();
      assert.equal(state.restoredBackups.length, before + 1);
      assert.equal(state.restoredBackups.at(-1).sha256, out.sha256);
      assert.ok((await host.calls()).some(isRestore));
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
