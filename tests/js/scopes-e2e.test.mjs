// Per-tool scopes end to end (issue 9) on the production build: a read-only token lists
// every tool and runs every read tool through the SDK client; one tool of each higher scope
// gets HTTP 403 insufficient_scope with nothing changed on the host (read back through the
// dev host's inspection endpoint); authorizing again with more scope (step-up) then works;
// a refresh cannot widen.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, obtainTokens, token, MemoryOAuthProvider, jwtParts } from './helpers/oauth.mjs';
import { mcpRequest, initialize, req } from './helpers/mcp.mjs';
import { resultText } from './helpers/tools.mjs';

const ALL = 'scrypted:read scrypted:control scrypted:admin';

/** Arguments each read tool succeeds with on the demo server. */
const READ_ARGS = {
  get_plugin_info: { plugin_id: '@scrypted/hue' },
  npm_info: { endpoint: '@scrypted/hue' },
  get_storage: { id: '12' },
  get_device: { id: '12' },
  get_id_for_native_id: { plugin_id: '@scrypted/hue', native_id: 'hue-light-1' },
  get_camera_snapshot: { id: '12' },
  get_external_addresses: { id: '@scrypted/core' },
  get_cors: { id: '@scrypted/core' },
};

/** One tool of each scope above read, with arguments that would change the host. */
const HIGHER = [
  { name: 'call_device_method', args: { id: '13', method: 'unlock', args: [] }, scope: 'scrypted:control' },
  { name: 'set_dotenv', args: { text: 'HACKED=1\n' }, scope: 'scrypted:admin' },
];

let host;
let cookie;

before(async () => {
  ({ host, cookie } = await startLoggedIn());
});
after(async () => {
  await host?.stop();
});

/** What the host holds (users, devices, plugins, .env, network, alerts, logs, backups, the
 * plugin's storage) without the plugin's audit trail, the one thing a refusal writes. */
async function hostState() {
  const s = await host.state();
  const noAudit = (storage) => Object.fromEntries(Object.entries(storage ?? {}).filter(([k]) => !k.startsWith('audit.')));
  const devices = s.devices.map((d) => ({ ...d, storage: noAudit(d.storage) }));
  const keep = ['users', 'plugins', 'alerts', 'logs', 'env', 'dotenv', 'cors', 'externalAddresses', 'localAddresses', 'restoredBackups'];
  return { ...Object.fromEntries(keep.map((k) => [k, s[k]])), devices, storage: noAudit(s.pluginStorage) };
}

async function sdkClientWith(client, tokens) {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const provider = new MemoryOAuthProvider({ cookie, clientName: 'scopes-e2e' });
  provider.saveClientInformation(client);
  provider.saveTokens(tokens);
  const sdk = new Client({ name: 'scopes-e2e', version: '1.0.0' });
  await sdk.connect(new StreamableHTTPClientTransport(new URL(host.mcpUrl), { authProvider: provider }));
  return sdk;
}

describe('a read-only token', () => {
  let read;
  before(async () => {
    read = await obtainTokens(host, cookie, { scope: 'scrypted:read' });
  });

  test('the token response and the token say scrypted:read', () => {
    assert.equal(read.tokens.scope, 'scrypted:read');
    assert.equal(jwtParts(read.tokens.access_token).payload.scope, 'scrypted:read');
  });

  test('lists every tool with its scope, and runs every read tool (SDK client)', async () => {
    const sdk = await sdkClientWith(read.client, read.tokens);
    try {
      const { tools } = await sdk.listTools();
      assert.equal(tools.length, 41);
      const reads = [];
      for (const t of tools) {
        const scope = t._meta?.['io.scrypted/scope'];
        assert.match(scope ?? '', /^scrypted:(read|control|admin)$/, `${t.name} _meta`);
        assert.ok(t.description.endsWith(`Needs OAuth scope ${scope}.`), `${t.name}: ${t.description.slice(-60)}`);
        if (scope === 'scrypted:read') reads.push(t.name);
      }
      assert.ok(reads.length >= 18, reads.join());
      const before = await hostState();
      for (const name of reads) {
        const r = await sdk.callTool({ name, arguments: READ_ARGS[name] ?? {} });
        assert.notEqual(r.isError, true, `${name}: ${resultText(r).slice(0, 300)}`);
      }
      assert.deepEqual(await hostState(), before, 'read tools changed nothing');
    } finally {
      await sdk.close().catch(() => {});
    }
  });

  test('a tool of each higher scope → 403 insufficient_scope, nothing changed; step-up then works', async () => {
    const { sessionId } = await initialize(host.mcpUrl, read.tokens.access_token);
    for (const { name, args, scope } of HIGHER) {
      const before = await hostState();
      const call = req('tools/call', { name, arguments: args });
      const r = await mcpRequest(host.mcpUrl, { token: read.tokens.access_token, sessionId, body: call });
      assert.equal(r.status, 403, `${name}: ${r.text.slice(0, 300)}`);
      const challenge = r.headers.get('www-authenticate');
      assert.match(challenge, /^Bearer error="insufficient_scope", /, name);
      assert.match(challenge, new RegExp(`scope="${scope}"`), name);
      assert.ok(challenge.includes(`resource_metadata="${host.publicBase}/.well-known/oauth-protected-resource"`), challenge);
      assert.equal(r.messages[0].id, call.id);
      assert.deepEqual(await hostState(), before, `${name} changed nothing on the host`);
    }
    assert.match(JSON.stringify((await host.state()).devices.find((d) => d.id === '13').state), /"Locked"/);
    // Step-up: the same app authorizes again for control, and the refused call now runs.
    const up = await obtainTokens(host, cookie, { client: read.client, scope: 'scrypted:read scrypted:control' });
    assert.equal(up.tokens.scope, 'scrypted:read scrypted:control');
    const s2 = await initialize(host.mcpUrl, up.tokens.access_token);
    const [{ name, args }] = HIGHER;
    const r = await mcpRequest(host.mcpUrl, { token: up.tokens.access_token, sessionId: s2.sessionId, body: req('tools/call', { name, arguments: args }) });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.notEqual(r.messages[0].result.isError, true, r.text.slice(0, 300));
    const lock = (await host.state()).devices.find((d) => d.id === '13');
    assert.match(JSON.stringify(lock.state), /Unlocked/, 'the lock was unlocked');
  });

  test('a refresh cannot widen the scope, and a narrower one narrows the new token', async () => {
    for (const wider of ['scrypted:control', ALL]) {
      const r = await token(host, { grant_type: 'refresh_token', refresh_token: read.tokens.refresh_token, client_id: read.client.client_id, scope: wider });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error, 'invalid_scope');
    }
    const admin = await obtainTokens(host, cookie, {});
    assert.equal(admin.tokens.scope, ALL);
    const r = await token(host, { grant_type: 'refresh_token', refresh_token: admin.tokens.refresh_token, client_id: admin.client.client_id, scope: 'scrypted:read' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.scope, 'scrypted:read');
    assert.equal(jwtParts(r.json.access_token).payload.scope, 'scrypted:read');
  });

  test('read-only mode (Settings) downgrades a live admin token on its next request, and lifts again', async () => {
    const admin = await obtainTokens(host, cookie, {});
    const { sessionId } = await initialize(host.mcpUrl, admin.tokens.access_token);
    const clear = () => mcpRequest(host.mcpUrl, { token: admin.tokens.access_token, sessionId, body: req('tools/call', { name: 'clear_alerts', arguments: {} }) });
    await host.putSetting('read_only', true);
    try {
      const before = await hostState();
      const r = await clear();
      assert.equal(r.status, 403, r.text.slice(0, 300));
      assert.match(r.headers.get('www-authenticate'), /insufficient_scope", scope="scrypted:control"/);
      assert.deepEqual(await hostState(), before, 'alerts kept');
    } finally {
      await host.putSetting('read_only', false);
    }
    const r = await clear();
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal((await host.state()).alerts.length, 0, 'cleared once read-only mode is off');
  });
});
