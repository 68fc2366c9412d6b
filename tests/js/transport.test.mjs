// What only the shim and the host can show about the Streamable HTTP transport, over raw
// fetch with a valid token against the real wasm + shim in the dev host: that headers and
// every body form Scrypted delivers (docs/reference/scrypted-host.md §6.2) reach Rust
// intact, and that Rust's answers reach the client as they left it. The transport's logic (sessions,
// versions, batches, Origin rules, error codes) is tested once, in tests/mcp/ (Rust).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, obtainTokens } from './helpers/oauth.mjs';
import { mcpRequest, initialize, req, note, LATEST } from './helpers/mcp.mjs';

let host;
let token;

before(async () => {
  const { host: started, cookie } = await startLoggedIn();
  host = started;
  token = (await obtainTokens(host, cookie)).tokens.access_token;
});
after(async () => {
  await host?.stop();
});

describe('headers and empty answers through the shim', () => {
  test("the browser's Origin and Host reach Rust: our own Origin is accepted, a foreign one → 403", async () => {
    const initBody = () => req('initialize', { protocolVersion: LATEST, capabilities: {}, clientInfo: { name: 'o', version: '1' } });
    const own = await mcpRequest(host.mcpUrl, { token, protocolVersion: null, body: initBody(), headers: { origin: host.baseUrl } });
    assert.equal(own.status, 200, own.text);
    const foreign = await mcpRequest(host.mcpUrl, { token, protocolVersion: null, body: initBody(), headers: { origin: 'http://evil.example.com' } });
    assert.equal(foreign.status, 403, foreign.text);
  });

  test('answers without a body leave the shim empty: 202 for a notification, 204 for DELETE', async () => {
    const { sessionId } = await initialize(host.mcpUrl, token);
    const accepted = await mcpRequest(host.mcpUrl, { token, sessionId, body: note('notifications/cancelled', { requestId: 12345, reason: 'test' }) });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.text, '');
    const deleted = await mcpRequest(host.mcpUrl, { token, sessionId, method: 'DELETE' });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assert.equal((await mcpRequest(host.mcpUrl, { token, sessionId, body: req('ping') })).status, 404, 'the session is gone');
  });
});

describe('text into the wasm', () => {
  // Text crosses into the wasm as its UTF-8 bytes (js-shim/plugin.js utf8, host.js storageGet):
  // the client record is read and parsed on every request, so a mangled crossing would end
  // the token ("no longer registered").
  test("a stored record reaches Rust as UTF-8: non-ASCII intact, a lone surrogate as U+FFFD", async () => {
    const clientId = JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).client_id;
    const key = `oauth.client.${clientId}`;
    const stored = (await host.pluginStorage())[key];
    const record = JSON.parse(stored);
    // The lone surrogate is a raw character of the stored text, not a JSON escape.
    const named = stored.replace(JSON.stringify(record.client_name), '"Café ✓ \ud800!"');
    assert.notEqual(named, stored);
    await host.setPluginStorage(key, named);
    try {
      const { sessionId } = await initialize(host.mcpUrl, token);
      assert.ok(sessionId, 'the token still names a registered client');
      const settings = await host.settings();
      assert.ok(settings.some((s) => s.key === `client:${clientId}` && s.title === 'Café ✓ \ufffd!'), JSON.stringify(settings.map((s) => s.title)));
    } finally {
      await host.setPluginStorage(key, stored);
    }
  });
});

describe('Scrypted body forms', () => {
  test('application/json; charset=utf-8 and non-ASCII text arrive intact', async () => {
    const { sessionId } = await initialize(host.mcpUrl, token);
    const r = await mcpRequest(host.mcpUrl, {
      token,
      sessionId,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'é-✓-1.50', method: 'ping' }),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.messages[0].id, 'é-✓-1.50');
  });

  test('text/plain arrives as the raw string and is answered; octet-stream arrives as Buffer-JSON and is an invalid request', async () => {
    const { sessionId } = await initialize(host.mcpUrl, token);
    const body = req('ping');
    const plain = await mcpRequest(host.mcpUrl, { token, sessionId, headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body) });
    assert.equal(plain.status, 200);
    assert.deepEqual(plain.messages.find((m) => m.id === body.id)?.result, {}, 'decoded and answered');
    // A bare `42` is no JSON to Scrypted's strict parser for application/json (a 400 page, the
    // plugin is not called), but as text/plain it reaches Rust raw: valid JSON, not a message.
    const scalar = await mcpRequest(host.mcpUrl, { token, sessionId, headers: { 'content-type': 'text/plain' }, body: '42' });
    assert.equal(scalar.status, 400);
    assert.equal(scalar.messages[0]?.error?.code, -32600, scalar.text);
    // Scrypted hands application/* bodies over as {"type":"Buffer","data":[...]} (§6.2):
    // valid JSON, but not a JSON-RPC message.
    const octet = await mcpRequest(host.mcpUrl, { token, sessionId, headers: { 'content-type': 'application/octet-stream' }, body: JSON.stringify(body) });
    assert.equal(octet.status, 400);
    assert.equal(octet.messages[0]?.error?.code, -32600, JSON.stringify(octet.messages));
  });

  test('a JSON body without Content-Type reaches the plugin empty: 400 parse error', async () => {
    const { sessionId } = await initialize(host.mcpUrl, token);
    const r = await fetch(host.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST, accept: 'application/json, text/event-stream' },
      body: new Blob([JSON.stringify(req('ping'))]), // Blob without type: no Content-Type header
    });
    // Scrypted passes no body at all without a Content-Type (§6.2): nothing to parse.
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error?.code, -32700);
  });
});
