// Streamable HTTP MUSTs the conformance suite does not cover, over raw fetch with a valid
// token, against the real wasm + shim in the dev host.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, login, obtainTokens, registerPublicClient } from './helpers/oauth.mjs';
import { mcpRequest, initialize, req, note, LATEST } from './helpers/mcp.mjs';
import { TOOL_NAMES } from './helpers/tools.mjs';

let host;
let cookie;
let tokA; // client A
let tokB; // client B, same user

before(async () => {
  ({ host, cookie } = await startLoggedIn());
  tokA = (await obtainTokens(host, cookie)).tokens.access_token;
  tokB = (await obtainTokens(host, cookie)).tokens.access_token;
});
after(async () => {
  await host?.stop();
});

const ping = (over = {}) => mcpRequest(host.mcpUrl, { token: tokA, body: req('ping'), ...over });

describe('sessions', () => {
  test('initialize issues distinct visible-ASCII session ids', async () => {
    const a = await initialize(host.mcpUrl, tokA);
    const b = await initialize(host.mcpUrl, tokA);
    for (const s of [a.sessionId, b.sessionId]) {
      assert.match(s, /^[\x21-\x7e]{16,}$/, `session id ${s}`);
    }
    assert.notEqual(a.sessionId, b.sessionId);
    assert.equal(a.result.protocolVersion, LATEST);
    assert.deepEqual(a.result.capabilities.tools, { listChanged: false }, 'declares tools');
    assert.equal(a.result.serverInfo.name, 'scrypted-mcp');
  });

  test('unknown session id → 404', async () => {
    const r = await ping({ sessionId: 'no-such-session-0123456789abcdef' });
    assert.equal(r.status, 404, r.text);
  });

  test('missing session id on a non-initialize request → 400', async () => {
    await initialize(host.mcpUrl, tokA);
    const r = await ping();
    assert.equal(r.status, 400, r.text);
  });

  test('DELETE ends the session: later requests and a second DELETE → 404', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const ok = await ping({ sessionId });
    assert.equal(ok.status, 200);
    const d = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, method: 'DELETE' });
    assert.equal(d.status, 204, `DELETE → ${d.status}`);
    assert.equal(d.text, '');
    assert.equal((await ping({ sessionId })).status, 404);
    const d2 = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, method: 'DELETE' });
    assert.equal(d2.status, 404);
  });

  test("a session is bound to its client: another client's token with it → 404", async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const r = await mcpRequest(host.mcpUrl, { token: tokB, sessionId, body: req('ping') });
    assert.equal(r.status, 404, r.text);
    const d = await mcpRequest(host.mcpUrl, { token: tokB, sessionId, method: 'DELETE' });
    assert.equal(d.status, 404, 'nor can it end it');
    assert.equal((await ping({ sessionId })).status, 200, 'the owner still can use it');
  });

  test('a session is bound to its user: the same client authorized by another admin → 404', async () => {
    const client = await registerPublicClient(host);
    const t1 = (await obtainTokens(host, cookie, { client })).tokens.access_token;
    // A second admin (added the way an admin would, through the tool), logged in on its own.
    const { sessionId: s0 } = await initialize(host.mcpUrl, t1);
    const add = await mcpRequest(host.mcpUrl, {
      token: t1,
      sessionId: s0,
      body: req('tools/call', { name: 'add_user', arguments: { username: 'second-admin', password: 'second-admin-pw', admin: true } }),
    });
    assert.notEqual(add.messages[0].result?.isError, true, add.text);
    const cookie2 = await login(host.baseUrl, 'second-admin', 'second-admin-pw');
    const t2 = (await obtainTokens(host, cookie2, { client })).tokens.access_token;
    const { sessionId } = await initialize(host.mcpUrl, t1);
    const r = await mcpRequest(host.mcpUrl, { token: t2, sessionId, body: req('ping') });
    assert.equal(r.status, 404, `another user's token on this session: ${r.status}`);
    assert.equal((await ping({ sessionId, token: t1 })).status, 200);
  });

  test('GET → 405 with Allow: we offer no standalone server stream (the spec allows 405)', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const r = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, method: 'GET', accept: 'text/event-stream' });
    assert.equal(r.status, 405);
    assert.match(r.headers.get('allow') ?? '', /POST/);
    assert.match(r.headers.get('allow') ?? '', /DELETE/);
  });

  test('GET without a token → 401, not a stream', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const r = await mcpRequest(host.mcpUrl, { sessionId, method: 'GET', accept: 'text/event-stream' });
    assert.equal(r.status, 401);
  });
});

describe('protocol version', () => {
  test('unsupported MCP-Protocol-Version header → 400', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const r = await ping({ sessionId, protocolVersion: '1999-01-01' });
    assert.equal(r.status, 400, r.text);
  });

  for (const v of ['2025-03-26', '2025-06-18', '2025-11-25']) {
    test(`initialize with ${v} is answered with ${v}`, async () => {
      const { result, sessionId, protocolVersion } = await initialize(host.mcpUrl, tokA, { protocolVersion: v });
      assert.equal(result.protocolVersion, v);
      const r = await ping({ sessionId, protocolVersion });
      assert.equal(r.status, 200);
    });
  }

  test('initialize with an unknown version → answered with our latest (mcp-protocol.md §1.2: SHOULD latest)', async () => {
    const r = await mcpRequest(host.mcpUrl, {
      token: tokA,
      protocolVersion: null,
      body: req('initialize', { protocolVersion: '1999-01-01', capabilities: {}, clientInfo: { name: 'x', version: '1' } }),
    });
    assert.equal(r.status, 200);
    const m = r.messages[0];
    assert.equal(m.error, undefined, r.text);
    assert.equal(m.result.protocolVersion, LATEST);
    assert.match(r.headers.get('mcp-session-id') ?? '', /^[\x21-\x7e]{16,}$/, 'a session is opened');
  });
});

describe('Origin (DNS rebinding)', () => {
  const initBody = () => req('initialize', { protocolVersion: LATEST, capabilities: {}, clientInfo: { name: 'o', version: '1' } });

  test('foreign Origin → 403', async () => {
    for (const origin of ['http://evil.example.com', 'null', 'http://127.0.0.1.evil.example.com']) {
      const r = await mcpRequest(host.mcpUrl, { token: tokA, protocolVersion: null, body: initBody(), headers: { origin } });
      assert.equal(r.status, 403, `${origin}: ${r.status}`);
    }
  });

  test('foreign Origin on an established session → 403', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const r = await ping({ sessionId, headers: { origin: 'http://evil.example.com' } });
    assert.equal(r.status, 403);
  });

  test('own Origin and no Origin → accepted', async () => {
    const own = await mcpRequest(host.mcpUrl, { token: tokA, protocolVersion: null, body: initBody(), headers: { origin: host.baseUrl } });
    assert.equal(own.status, 200, own.text);
    const none = await mcpRequest(host.mcpUrl, { token: tokA, protocolVersion: null, body: initBody() });
    assert.equal(none.status, 200);
  });
});

describe('messages', () => {
  test('notifications → 202 with no body', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    for (const n of [note('notifications/initialized'), note('notifications/cancelled', { requestId: 12345, reason: 'test' })]) {
      const r = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, body: n });
      assert.equal(r.status, 202, `${n.method}: ${r.status}`);
      assert.equal(r.text, '');
    }
  });

  test('batch accepted on 2025-03-26 only', async () => {
    const old = await initialize(host.mcpUrl, tokA, { protocolVersion: '2025-03-26' });
    const batch = [req('ping'), req('tools/list')];
    const r = await mcpRequest(host.mcpUrl, { token: tokA, sessionId: old.sessionId, protocolVersion: '2025-03-26', body: batch });
    assert.equal(r.status, 200, r.text);
    const ids = r.messages.map((m) => m.id).sort();
    assert.deepEqual(ids, batch.map((m) => m.id).sort(), 'one response per request');
    assert.ok(r.messages.every((m) => m.result));
    // A batch of notifications only → 202.
    const n = await mcpRequest(host.mcpUrl, { token: tokA, sessionId: old.sessionId, protocolVersion: '2025-03-26', body: [note('notifications/initialized')] });
    assert.equal(n.status, 202);

    for (const v of ['2025-06-18', '2025-11-25']) {
      const s = await initialize(host.mcpUrl, tokA, { protocolVersion: v });
      const b = await mcpRequest(host.mcpUrl, { token: tokA, sessionId: s.sessionId, protocolVersion: v, body: [req('ping'), req('ping')] });
      assert.equal(b.status, 400, `batch on ${v} → ${b.status}`);
    }
  });

  test('unknown method → -32601; ping → {}', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const u = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, body: req('no/such/method') });
    assert.equal(u.status, 200);
    assert.equal(u.messages[0].error.code, -32601);
    const p = await ping({ sessionId });
    assert.deepEqual(p.messages[0].result, {});
    assert.equal(p.messages[0].jsonrpc, '2.0');
  });

  test('unknown tool → -32602', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const r = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, body: req('tools/call', { name: 'no_such_tool', arguments: {} }) });
    assert.equal(r.messages[0].error?.code, -32602, r.text);
  });

  test('invalid JSON-RPC envelope → 400 with -32600 (no jsonrpc, null id, not an object)', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    // A bare `42` is no JSON to Scrypted's strict parser for application/json (scrypted-host.md
    // §6.2: a 400 page, the plugin is not called), so it is sent as text/plain, which arrives raw.
    for (const [body, headers] of [
      [{ id: 1, method: 'ping' }, {}],
      [{ jsonrpc: '2.0', id: null, method: 'ping' }, {}],
      ['42', { 'content-type': 'text/plain' }],
    ]) {
      const r = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, body, headers });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.status} ${r.text}`);
      assert.equal(r.messages[0]?.error?.code, -32600, `${JSON.stringify(body)}: ${r.text}`);
    }
  });

  test('tools/list pages with an opaque cursor; an invalid cursor → -32602', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const names = [];
    let cursor;
    for (let i = 0; i < 20; i++) {
      const r = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, body: req('tools/list', cursor ? { cursor } : undefined) });
      const res = r.messages[0].result;
      names.push(...res.tools.map((t) => t.name));
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual([...names].sort(), [...TOOL_NAMES].sort(), 'every tool, once, across the pages');
    const bad = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, body: req('tools/list', { cursor: 'not-a-cursor!!' }) });
    assert.equal(bad.messages[0].error?.code, -32602, bad.text);
  });
});

describe('Scrypted body forms', () => {
  test('application/json; charset=utf-8 and non-ASCII text arrive intact', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const r = await mcpRequest(host.mcpUrl, {
      token: tokA,
      sessionId,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'é-✓-1.50', method: 'ping' }),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.messages[0].id, 'é-✓-1.50');
  });

  test('malformed JSON → 400; over 100 KB → 413 (the host answers, as Scrypted does)', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const bad = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, body: '{"jsonrpc": "2.0", "id": 1, "method": ' });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /text\/html/, 'an HTML page from Express: the plugin is not called');
    const big = await mcpRequest(host.mcpUrl, {
      token: tokA,
      sessionId,
      body: { jsonrpc: '2.0', id: 7, method: 'ping', params: { _meta: { pad: 'x'.repeat(110 * 1024) } } },
    });
    assert.equal(big.status, 413);
    assert.match(big.headers.get('content-type') ?? '', /text\/html/, 'an HTML page from Express: the plugin is not called');
  });

  test('text/plain arrives as the raw string and is answered; octet-stream arrives as Buffer-JSON and is an invalid request', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const body = req('ping');
    const plain = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body) });
    assert.equal(plain.status, 200);
    assert.deepEqual(plain.messages.find((m) => m.id === body.id)?.result, {}, 'decoded and answered');
    // Scrypted hands application/* bodies over as {"type":"Buffer","data":[...]} (§6.2):
    // valid JSON, but not a JSON-RPC message.
    const octet = await mcpRequest(host.mcpUrl, { token: tokA, sessionId, headers: { 'content-type': 'application/octet-stream' }, body: JSON.stringify(body) });
    assert.equal(octet.status, 400);
    assert.equal(octet.messages[0]?.error?.code, -32600, JSON.stringify(octet.messages));
  });

  test('a JSON body without Content-Type reaches the plugin empty: 400 parse error', async () => {
    const { sessionId } = await initialize(host.mcpUrl, tokA);
    const r = await fetch(host.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokA}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST, accept: 'application/json, text/event-stream' },
      body: new Blob([JSON.stringify(req('ping'))]), // Blob without type: no Content-Type header
    });
    // Scrypted passes no body at all without a Content-Type (§6.2): nothing to parse.
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error?.code, -32700);
  });
});
