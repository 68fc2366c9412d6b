// The Settings tab as Scrypted's UI drives it — getSettings / putSetting on the plugin,
// through the real shim and wasm in the dev host — and its effect on the next request:
// configuration, per-app and global revoke, and the audit trail.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers/devhost.mjs';
import { startLoggedIn, obtainTokens, token } from './helpers/oauth.mjs';
import { initialize, mcpRequest, req } from './helpers/mcp.mjs';

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'scrypted-manifest.json'), 'utf8'));
const byKey = (settings) => Object.fromEntries(settings.map((s) => [s.key, s]));

/** POST initialize with `accessToken`: the status and the WWW-Authenticate challenge. */
async function tryInitialize(host, accessToken) {
  const r = await mcpRequest(host.mcpUrl, {
    token: accessToken,
    protocolVersion: null,
    body: req('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } }),
  });
  return { status: r.status, challenge: r.headers.get('www-authenticate') ?? '' };
}

const refresh = (host, t) =>
  token(host, { grant_type: 'refresh_token', refresh_token: t.tokens.refresh_token, client_id: t.client.client_id });

describe('Settings tab through the shim', () => {
  let host;
  let cookie;
  before(async () => ({ host, cookie } = await startLoggedIn()));
  after(() => host?.stop());

  test('endpoint URL to copy, and every configuration value with the manifest default and range', async () => {
    const s = byKey(await host.settings());
    assert.equal(s.endpoint_http.value, host.mcpUrl, 'the HTTP URL is the one clients use');
    assert.equal(s.endpoint_http.readonly, true);
    assert.match(s.endpoint_https.value, /^https:\/\/.*\/endpoint\/scrypted-mcp\/public\/mcp$/);
    for (const [key, spec] of Object.entries(manifest.settings)) {
      assert.equal(s[key].type, 'integer', key);
      assert.equal(s[key].value, spec.default, key);
      assert.deepEqual(s[key].range, [spec.min, spec.max], key);
      assert.equal(s[key].group, 'Configuration', key);
      assert.equal(s[key].title, spec.title, key);
    }
    assert.equal(s.revoke_all.type, 'button');
  });

  // Real host (issue 7): Scrypted's own local endpoint read http://undefined:<port>/... when it
  // found no usable LAN address. This test failed so before the URL was built in Rust.
  test('no usable LAN address (SCRYPTED_IP_ADDRESS undefined): never `undefined`, the address the browser used instead', async () => {
    const { ipAddress } = (await host.state()).server;
    await host.network({ ipAddress: null });
    try {
      const hint = await fetch(host.url('/'), { headers: { cookie } }); // the admin's browser
      assert.equal(hint.status, 200);
      const s = byKey(await host.settings());
      for (const key of ['endpoint_http', 'endpoint_https']) {
        assert.doesNotMatch(String(s[key].value), /undefined/, key);
        assert.match(s[key].description, /SCRYPTED_IP_ADDRESS/, `${key} says why`);
      }
      assert.equal(s.endpoint_http.value, host.mcpUrl, 'the host and port the admin\'s browser used');
    } finally {
      await host.network({ ipAddress });
    }
  });

  test('a bad value is refused with its range and changes nothing; a good one applies to the next token', async () => {
    const storage = await host.pluginStorage();
    for (const bad of [59, 86401, 'abc', 1.5]) {
      const r = await host.putSetting('access_token_ttl_sec', bad);
      assert.equal(r.status, 400, `${bad}`);
      assert.match(r.error, /access_token_ttl_sec must be an integer between 60 and 86400/);
    }
    assert.deepEqual(await host.pluginStorage(), storage, 'refused values wrote nothing');
    assert.equal((await host.putSetting('access_token_ttl_sec', '120')).status, 200);
    assert.equal(byKey(await host.settings()).access_token_ttl_sec.value, 120);
    const t = await obtainTokens(host, cookie);
    assert.equal(t.tokens.expires_in, 120, 'no reload needed');
    assert.equal((await host.putSetting('access_token_ttl_sec', 3600)).status, 200);
  });

  test("an app's own revoke button ends its tokens at once and leaves other apps alone", async () => {
    const a = await obtainTokens(host, cookie);
    const b = await obtainTokens(host, cookie);
    const before = byKey(await host.settings());
    assert.equal(before[`revoke_client:${a.client.client_id}`]?.type, 'button', 'one revoke button per app');
    assert.equal((await host.putSetting(`revoke_client:${a.client.client_id}`, true)).status, 200);

    const gone = await tryInitialize(host, a.tokens.access_token);
    assert.equal(gone.status, 401);
    assert.match(gone.challenge, /error="invalid_token"/);
    const r = await refresh(host, a);
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'invalid_client', 'a well-behaved client registers again on this');
    assert.equal((await tryInitialize(host, b.tokens.access_token)).status, 200, 'the other app still works');
    assert.equal(byKey(await host.settings())[`revoke_client:${a.client.client_id}`], undefined);
  });

  test('revoke all ends every token and registration; a new flow works', async () => {
    const a = await obtainTokens(host, cookie);
    assert.equal((await host.putSetting('revoke_all', true)).status, 200);
    assert.equal((await tryInitialize(host, a.tokens.access_token)).status, 401);
    const r = await refresh(host, a);
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'invalid_client', 'the registration went too');
    const s = byKey(await host.settings());
    assert.equal(s.status_clients.value, 0);
    assert.equal(s.status_refresh_tokens.value, 0);
    assert.equal(s.status_sessions.value, 0);
    const fresh = await obtainTokens(host, cookie);
    assert.equal((await tryInitialize(host, fresh.tokens.access_token)).status, 200);
  });

  test('the audit trail lists tool calls and outcomes, never their arguments', async () => {
    const t = await obtainTokens(host, cookie);
    const { sessionId, protocolVersion } = await initialize(host.mcpUrl, t.tokens.access_token);
    const call = (name, args) =>
      mcpRequest(host.mcpUrl, { token: t.tokens.access_token, sessionId, protocolVersion, body: req('tools/call', { name, arguments: args }) });
    await call('get_device', { id: 'no-such-device-Zq81' });
    await call('list_users', {});
    const trail = byKey(await host.settings()).audit_recent.value;
    assert.match(trail, /list_users\s+ok/);
    assert.match(trail, /get_device\s+error/);
    assert.doesNotMatch(trail, /Zq81/, 'argument values never reach the trail');
    const stored = JSON.stringify(await host.pluginStorage());
    assert.doesNotMatch(stored, /Zq81/, 'nor plugin storage');
  });
});
