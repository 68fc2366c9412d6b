// Issue 8, the MCP and tools side: hostile requests against the real wasm behind the real
// shim in the dev host. Each case asserts the exact status and JSON-RPC code, and that
// nothing changed (the host calls the plugin made, the state it holds, the audit trail).
// The OAuth side's attacks are in attacks-oauth.test.mjs.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startLoggedIn, obtainTokens, register, registerPublicClient } from './helpers/oauth.mjs';
import { mcpRequest, initialize, req, LATEST } from './helpers/mcp.mjs';
import { callsMatching } from './helpers/tools.mjs';

const SELF = 'scrypted-mcp';
const SELF_ID = '3'; // the plugin's root device in js-shim/dev/demo.json

let host;
let cookie;
let alice; // {token, client}
let bob; // another client of the same admin

before(async () => {
  ({ host, cookie } = await startLoggedIn());
  const a = await obtainTokens(host, cookie);
  alice = { token: a.tokens.access_token, clientId: a.client.client_id };
  const b = await obtainTokens(host, cookie);
  bob = { token: b.tokens.access_token, clientId: b.client.client_id };
});
after(async () => {
  await host?.stop();
});

/** A tools/call over a legacy session: the JSON-RPC answer. */
async function callTool(who, sessionId, name, args = {}, protocolVersion = LATEST) {
  const body = req('tools/call', { name, arguments: args });
  const r = await mcpRequest(host.mcpUrl, { token: who.token, sessionId, body, protocolVersion });
  assert.equal(r.status, 200, r.text);
  return r.messages.find((m) => m.id === body.id);
}

/** A refused tool call: isError with a "Refused:" message naming this plugin. */
async function assertRefused(who, sessionId, name, args) {
  const answer = await callTool(who, sessionId, name, args);
  assert.equal(answer.result?.isError, true, JSON.stringify(answer));
  const text = answer.result.content[0].text;
  assert.match(text, /^Refused: /, text);
  assert.ok(text.includes(SELF), text);
  return text;
}

const hostCalls = async (re) => callsMatching(await host.calls(), re).length;
/** The audit trail's file in the plugin volume (src/audit.rs): one row a line, oldest first. */
const auditRows = async () => {
  const file = path.join(host.info.pluginVolume, 'audit.jsonl');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
};

describe('the endpoint before any tool runs', () => {
  test('no Authorization → 401 with the challenge; nothing audited', async () => {
    const before = (await auditRows()).length;
    const r = await mcpRequest(host.mcpUrl, { body: req('tools/call', { name: 'get_server_info', arguments: {} }) });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer .*resource_metadata="/);
    assert.equal((await auditRows()).length, before);
  });

  test('a forged bearer (random, and a JWT with alg none) → 401 invalid_token', async () => {
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'admin', exp: 4102444800 })).toString('base64url')}.`;
    for (const token of ['not-a-token', none]) {
      const r = await mcpRequest(host.mcpUrl, { token, body: req('ping') });
      assert.equal(r.status, 401, token);
      assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
  });

  test('no session header → 400 -32000; an unknown session → 404 -32001', async () => {
    const missing = await mcpRequest(host.mcpUrl, { token: alice.token, body: req('ping') });
    assert.equal(missing.status, 400);
    assert.equal(missing.messages[0].error.code, -32000);
    const unknown = await mcpRequest(host.mcpUrl, { token: alice.token, sessionId: 'no-such-session', body: req('ping') });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.messages[0].error.code, -32001);
  });

  test("another client's session answers exactly like an unknown one, and survives", async () => {
    const { sessionId } = await initialize(host.mcpUrl, alice.token);
    for (const method of ['POST', 'DELETE']) {
      const r = await mcpRequest(host.mcpUrl, { token: bob.token, sessionId, method, body: method === 'POST' ? req('ping') : undefined });
      assert.equal(r.status, 404, method);
    }
    const still = await mcpRequest(host.mcpUrl, { token: alice.token, sessionId, body: req('ping') });
    assert.equal(still.status, 200);
  });

  test('malformed JSON → 400 -32700; a non-2.0 message → 400 -32600 echoing its id', async () => {
    const { sessionId } = await initialize(host.mcpUrl, alice.token);
    const broken = await mcpRequest(host.mcpUrl, { token: alice.token, sessionId, body: '{"jsonrpc":"2.0","id":1,"method":' , headers: { 'content-type': 'text/plain' } });
    assert.equal(broken.status, 400);
    assert.equal(broken.messages[0].error.code, -32700);
    const old = await mcpRequest(host.mcpUrl, { token: alice.token, sessionId, body: { jsonrpc: '1.0', id: 77, method: 'ping' } });
    assert.equal(old.status, 400);
    assert.equal(old.messages[0].error.code, -32600);
    assert.equal(old.messages[0].id, 77);
  });

  test('an unknown tool → -32602 naming it, audited as invalid_params, no host call', async () => {
    const { sessionId } = await initialize(host.mcpUrl, alice.token);
    const calls = (await host.calls()).length;
    const answer = await callTool(alice, sessionId, 'drop_all_tables', { password: 'x' });
    assert.equal(answer.error.code, -32602);
    assert.match(answer.error.message, /Unknown tool: drop_all_tables/);
    const last = (await auditRows()).at(-1);
    assert.deepEqual([last[3], last[5]], ['drop_all_tables', 'invalid_params']);
    const after = await host.calls();
    assert.deepEqual(after.slice(calls).filter((c) => !/getSystemState|getIdForPluginId/.test(c.method)), []);
  });

  test('a JSON body over Scrypted\'s 100 KB limit is refused by the host (413) before the plugin', async () => {
    const { sessionId } = await initialize(host.mcpUrl, alice.token);
    const before = (await host.calls()).length;
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(150_000) } });
    const r = await mcpRequest(host.mcpUrl, { token: alice.token, sessionId, body: big });
    assert.equal(r.status, 413);
    assert.equal((await host.calls()).length, before);
  });
});

describe('item 11 and its siblings: tools aimed at this plugin are refused', () => {
  let sessionId;
  before(async () => {
    ({ sessionId } = await initialize(host.mcpUrl, alice.token));
  });

  test('clear_console of this plugin → refused, its console untouched', async () => {
    await assertRefused(alice, sessionId, 'clear_console', { id: SELF_ID });
    assert.equal(await hostCalls(/clearConsole/), 0);
  });

  test('clear_logs of this plugin → refused, no logger.clear', async () => {
    const logsBefore = (await host.state()).logsCount;
    await assertRefused(alice, sessionId, 'clear_logs', { device_id: SELF_ID });
    assert.equal(await hostCalls(/logger\.clear/), 0);
    assert.equal((await host.state()).logsCount, logsBefore);
  });

  test('disconnect_clients of this plugin → refused, no disconnect', async () => {
    const text = await assertRefused(alice, sessionId, 'disconnect_clients', { plugin_id: SELF });
    assert.match(text, /security warnings/);
    assert.equal(await hostCalls(/disconnectClients/), 0);
  });

  test('kill_plugin of this plugin → refused, no kill', async () => {
    await assertRefused(alice, sessionId, 'kill_plugin', { plugin_id: SELF });
    assert.equal(await hostCalls(/plugins\.kill/), 0);
  });

  test('get_storage and set_storage of this plugin → refused, its keys unchanged', async () => {
    const before = await host.pluginStorage();
    await assertRefused(alice, sessionId, 'get_storage', { id: SELF_ID });
    await assertRefused(alice, sessionId, 'set_storage', { id: SELF_ID, storage: { 'oauth.signing_key': 'attacker' }, merge: true });
    const after = await host.pluginStorage();
    assert.equal(after['oauth.signing_key'], before['oauth.signing_key']);
    assert.equal(await hostCalls(/setStorage/), 0);
  });

  test('call_device_method and rename_device_id on this plugin → refused', async () => {
    await assertRefused(alice, sessionId, 'call_device_method', { id: SELF_ID, method: 'putSetting', args: ['dcr_max_clients', 1] });
    await assertRefused(alice, sessionId, 'rename_device_id', { id: SELF_ID, new_id: 'mcp-self' });
    assert.equal(await hostCalls(/renameDeviceId|device\.putSetting/), 0);
  });
});

describe('item 9: batches cannot flush the audit trail', () => {
  test('a 2025-03-26 batch of 51 → 400 -32600 saying the bound; nothing in it runs', async () => {
    const { sessionId } = await initialize(host.mcpUrl, alice.token, { protocolVersion: '2025-03-26' });
    const rows = (await auditRows()).length;
    const calls = (await host.calls()).length;
    const batch = Array.from({ length: 51 }, () => req('tools/call', { name: 'get_server_info', arguments: {} }));
    const r = await mcpRequest(host.mcpUrl, { token: alice.token, sessionId, body: batch, protocolVersion: '2025-03-26' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.messages[0].error.code, -32600);
    assert.match(r.messages[0].error.message, /at most 50 .* has 51/);
    assert.equal((await auditRows()).length, rows);
    assert.equal((await host.calls()).length, calls);
  });

  test("a set_dotenv row of one client survives 1,000 calls by another", async () => {
    const a = await initialize(host.mcpUrl, alice.token);
    const dotenv = await callTool(alice, a.sessionId, 'set_dotenv', { text: 'TZ=UTC\n' });
    assert.equal(dotenv.result.isError, false, JSON.stringify(dotenv));
    const b = await initialize(host.mcpUrl, bob.token, { protocolVersion: '2025-03-26' });
    for (let i = 0; i < 20; i++) {
      const batch = Array.from({ length: 50 }, () => req('tools/call', { name: 'list_alerts', arguments: {} }));
      const r = await mcpRequest(host.mcpUrl, { token: bob.token, sessionId: b.sessionId, body: batch, protocolVersion: '2025-03-26' });
      assert.equal(r.status, 200);
    }
    // The file may still hold rows evicted since its last rewrite; a restart brings it down
    // to exactly the rows kept (on the trail's first read).
    await host.reload();
    const r = await mcpRequest(host.mcpUrl, { token: alice.token, sessionId: a.sessionId, body: req('resources/read', { uri: 'scrypted-mcp://audit/recent' }) });
    assert.equal(r.status, 200, r.text);
    const rows = await auditRows();
    assert.equal(rows.length, 200);
    const mine = rows.filter((r) => r[2] === alice.clientId && r[3] === 'set_dotenv');
    assert.equal(mine.length, 1, 'the set_dotenv row is still there');
    assert.ok(rows.filter((r) => r[2] === bob.clientId).length >= 150);
  });
});

describe('item 10: one client cannot end the sessions of another', () => {
  test("257 initializes by one client leave another's session alive", async () => {
    const a = await initialize(host.mcpUrl, alice.token);
    for (let i = 0; i < 257; i++) await initialize(host.mcpUrl, bob.token);
    const r = await mcpRequest(host.mcpUrl, { token: alice.token, sessionId: a.sessionId, body: req('ping') });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.messages[0].result, {});
  });
});

describe('items 6 and 7: secrets stay out of answers and out of the audit hash', () => {
  const SECRETS = {
    MQTT_PASS: 'mqtt-pw-1',
    DB_PWD: 'db-pw-2',
    ALARM_PIN: '4711',
    CAMERA_URL: 'http://admin:cam-pw-3@192.168.1.40/cgi-bin/snap',
    BROKER: 'mqtt://u:broker-pw-4@broker:1883',
    SLACK: 'https://hooks.slack.com/services/T0A/B0B/slackSecret5',
    SESSION: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl',
    HUE: 'Qw3rTy9UiOp1AsDfGh2JkLzX4cVbNm8Q',
  };
  const ORDINARY = { TZ: 'Europe/Berlin', CAMERA_MAC: '00:11:22:33:44:55', STREAM: 'rtsp://192.168.1.40:554/s1' };
  const text = Object.entries({ ...SECRETS, ...ORDINARY }).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';

  test('get_dotenv hides secrets by key and by value, keeps the rest; writing back what it showed changes nothing', async () => {
    const { sessionId } = await initialize(host.mcpUrl, alice.token);
    const set = await callTool(alice, sessionId, 'set_dotenv', { text });
    assert.equal(set.result.isError, false, JSON.stringify(set));
    const shown = (await callTool(alice, sessionId, 'get_dotenv')).result.structuredContent;
    for (const [k, v] of Object.entries(SECRETS)) {
      assert.ok(!shown.text.includes(v), `${k} in clear: ${shown.text}`);
      assert.ok(shown.redacted_keys.includes(k), k);
    }
    for (const [k, v] of Object.entries(ORDINARY)) assert.ok(shown.text.includes(`${k}=${v}`), k);
    assert.ok(shown.text.includes('BROKER=mqtt://u:[REDACTED]@broker:1883'), shown.text);
    const back = await callTool(alice, sessionId, 'set_dotenv', { text: shown.text });
    assert.equal(back.result.isError, false, JSON.stringify(back));
    assert.equal((await host.state()).dotenv, text, 'every stored value kept');
  });

  test('a placeholder that stands for no current value is refused and nothing is written', async () => {
    const { sessionId } = await initialize(host.mcpUrl, alice.token);
    await callTool(alice, sessionId, 'set_dotenv', { text });
    const moved = await callTool(alice, sessionId, 'set_dotenv', { text: 'BROKER=mqtt://u:[REDACTED]@evil.example:1883\n' });
    assert.equal(moved.result.isError, true);
    assert.match(moved.result.content[0].text, /BROKER .*Nothing was written/);
    assert.equal((await host.state()).dotenv, text);
  });

  test("add_user's password never enters the audit hash: two passwords, one hash, no guess confirmed", async () => {
    const { sessionId } = await initialize(host.mcpUrl, alice.token);
    for (const password of ['hunter2', 'correct horse battery']) {
      await callTool(alice, sessionId, 'add_user', { username: 'mallory', password, admin: false });
    }
    const rows = (await auditRows()).filter((r) => r[3] === 'add_user').slice(-2);
    assert.equal(rows.length, 2);
    assert.equal(rows[0][4], rows[1][4]);
    const storage = JSON.stringify(await host.pluginStorage());
    for (const secret of ['hunter2', 'correct horse', ...Object.values(SECRETS)]) assert.ok(!storage.includes(secret), secret);
  });
});

describe('item 15: huge bodies are refused before they cross into wasm', () => {
  // Scrypted hands an application/* body over as Buffer-JSON text, ~3.7 characters a byte.
  const post = (token, body, type) =>
    fetch(host.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': type, accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });

  test('an anonymous 80 KB MCP POST → 401 with the challenge, at once', async () => {
    const r = await post(null, 'x'.repeat(80 * 1024), 'text/plain');
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata="/);
    assert.equal((await r.json()).error, 'unauthorized');
  });

  test('1 MB with a valid token → 413 -32600 saying the limit; nothing runs', async () => {
    const calls = (await host.calls()).length;
    const r = await post(alice.token, Buffer.alloc(1024 * 1024, 0x41), 'application/octet-stream');
    assert.equal(r.status, 413);
    const body = await r.json();
    assert.equal(body.error.code, -32600);
    assert.match(body.error.message, /^Payload Too Large: the body is \d+ characters; this plugin reads at most 262144/);
    assert.equal((await host.calls()).length, calls);
  });

  test('30 MB anonymous → 413 (before: 401 after the 110 MB text crossed into wasm)', async () => {
    const r = await post(null, Buffer.alloc(30 * 1024 * 1024, 0x41), 'application/octet-stream');
    assert.equal(r.status, 413);
    assert.equal((await r.json()).error.code, -32600);
  });
});

describe('item 8: registration cannot push out real apps or grow storage', () => {
  const metadata = (over = {}) => ({ client_name: 'flood', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none', ...over });

  test('duplicated fields (a text/plain body arrives as sent) → 400 invalid_client_metadata, nothing stored', async () => {
    const before = Object.keys(await host.pluginStorage()).length;
    const r = await register(host, '{"redirect_uris":["http://127.0.0.1:9/cb"],"client_name":"Good","client_name":"Evil"}', { 'content-type': 'text/plain' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error, 'invalid_client_metadata');
    assert.match(r.json.error_description, /"client_name" appears twice/);
    assert.equal(Object.keys(await host.pluginStorage()).length, before);
  });

  test('6 redirect URIs, a 600-byte URI, 5 KB of metadata → 400 with the bound', async () => {
    const six = await register(host, metadata({ redirect_uris: Array.from({ length: 6 }, (_, i) => `http://127.0.0.1:9/${i}`) }));
    assert.deepEqual([six.status, six.json.error], [400, 'invalid_redirect_uri']);
    assert.match(six.json.error_description, /at most 5/);
    const long = await register(host, metadata({ redirect_uris: [`http://127.0.0.1:9/${'x'.repeat(600)}`] }));
    assert.deepEqual([long.status, long.json.error], [400, 'invalid_redirect_uri']);
    assert.match(long.json.error_description, /at most 512 bytes/);
    const big = await register(host, metadata({ client_uri: `https://app.example/${'y'.repeat(5000)}` }));
    assert.deepEqual([big.status, big.json.error], [400, 'invalid_client_metadata']);
    assert.match(big.json.error_description, /at most 4096 bytes/);
  });

  test('a flood at the cap gets 503 with Retry-After; the app mid-consent and the new one stay', async () => {
    const set = await host.putSetting('dcr_max_clients', 4);
    assert.equal(set.status, 200, JSON.stringify(set));
    try {
      const victim = await registerPublicClient(host, ['http://127.0.0.1:9/cb'], 'victim');
      let refused;
      for (let i = 0; i < 40; i++) {
        const r = await register(host, metadata());
        if (r.status !== 201) {
          refused = r;
          break;
        }
      }
      assert.equal(refused?.status, 503, refused?.text);
      assert.equal(refused.json.error, 'temporarily_unavailable');
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      const storage = await host.pluginStorage();
      assert.ok(storage[`oauth.client.${victim.client_id}`], 'the victim is still registered');
      assert.ok(storage[`oauth.client.${alice.clientId}`], 'a connected app stays');
    } finally {
      await host.putSetting('dcr_max_clients', 100);
    }
  });
});
