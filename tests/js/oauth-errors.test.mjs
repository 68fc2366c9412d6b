// Every OAuth error of issue 2 §4 over real HTTP to the dev host (real wasm + shim): status,
// error code, and that nothing was stored, at /register, /authorize and /token. The
// discovery documents and the MCP endpoint's token check are in oauth-resource.test.mjs.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  login,
  viewerCredentials,
  register,
  registerPublicClient,
  authorize,
  approveConsent,
  token,
  pkce,
  getCode,
  obtainTokens,
  jwtParts,
  consentForm,
  LOOPBACK_REDIRECT,
} from './helpers/oauth.mjs';
import { mcpRequest, req, initialize } from './helpers/mcp.mjs';
import { ROOT } from './helpers/devhost.mjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';

let host;
let cookie;
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'scrypted-manifest.json'), 'utf8'));
const ACCESS_TTL = manifest.settings.access_token_ttl_sec.default;

before(async () => ({ host, cookie } = await startLoggedIn()));
after(() => host?.stop());

/**
 * What the plugin has persisted, as the set of its storage keys (clients, codes, grants,
 * keys each live under their own key; a value update such as a last-used time is not
 * "storing something").
 */
/** The /authorize URL with `p` as its query. */
function authorizeUrl(p) {
  const u = new URL(host.url('/authorize'));
  for (const [k, v] of Object.entries(p)) if (v !== undefined) u.searchParams.set(k, v);
  return u;
}

async function stored() {
  const s = await host.pluginStorage();
  assert.ok(s && typeof s === 'object', 'the dev host exposes the plugin storage in /__devhost/state');
  return JSON.stringify(Object.keys(s).sort());
}

async function assertNothingStored(before, what) {
  assert.equal(await stored(), before, `${what}: the plugin storage is unchanged`);
}

function assertNoStore(r, what) {
  assert.match(r.headers.get('cache-control') ?? '', /no-store/, `${what}: Cache-Control no-store`);
}

function assertJson(r, what) {
  assert.match(r.headers.get('content-type') ?? '', /application\/json/, `${what}: JSON`);
}

const initBody = () => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});

// Errors found before the redirect URI is validated: a 400 page, never a redirect.
const errorPage = (r) => r.status === 400 && !r.location;

describe('/register', () => {
  for (const bad of [
    'javascript:alert(1)',
    'data:text/html,hi',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'https://app.example.com/cb#frag',
    'not a url',
    'http://evil.example.com/cb',
  ]) {
    test(`rejects redirect URI ${bad} → 400 invalid_redirect_uri, nothing stored`, async () => {
      const before = await stored();
      const r = await register(host, { client_name: 'evil', redirect_uris: ['http://127.0.0.1:5000/cb', bad], token_endpoint_auth_method: 'none' });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json?.error, 'invalid_redirect_uri');
      assertNoStore(r, 'register error');
      await assertNothingStored(before, `register ${bad}`);
    });
  }

  test('missing redirect_uris → 400 invalid_redirect_uri, nothing stored', async () => {
    const before = await stored();
    const r = await register(host, { client_name: 'x' });
    assert.equal(r.status, 400);
    // RFC 7591 §3.2.2: the redirect URIs (here: none) are what is invalid.
    assert.equal(r.json?.error, 'invalid_redirect_uri', r.text);
    await assertNothingStored(before, 'register without redirect_uris');
  });

  test('a body that is not a JSON object (reaching the plugin as text) → 400 invalid_client_metadata, nothing stored', async () => {
    const before = await stored();
    for (const body of ['redirect_uris=http://127.0.0.1:1/cb', '[1,2]', '{"redirect_uris": [']) {
      const r = await register(host, body, { 'content-type': 'text/plain' });
      assert.equal(r.status, 400, `${body}: ${r.status}`);
      assert.equal(r.json?.error, 'invalid_client_metadata');
    }
    await assertNothingStored(before, 'register text body');
  });

  test('the Cursor trio in one call → 201, echoed, no nulls, no-store', async () => {
    const uris = [
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'https://www.cursor.com/agents/mcp/oauth/callback',
      'http://localhost:8787/callback',
    ];
    const before = await stored();
    const r = await register(host, { client_name: 'Cursor', redirect_uris: uris, client_uri: null, logo_uri: null });
    assert.equal(r.status, 201, r.text);
    assertJson(r, 'register');
    assertNoStore(r, 'register');
    assert.deepEqual(r.json.redirect_uris, uris);
    assert.match(r.json.client_id, /\S/);
    assert.equal(r.json.token_endpoint_auth_method, 'none');
    assert.ok(r.json.grant_types.includes('refresh_token') && r.json.grant_types.includes('authorization_code'));
    for (const [k, v] of Object.entries(r.json)) assert.notEqual(v, null, `field ${k} is null`);
    assert.notEqual(await stored(), before, 'a successful registration is stored');
  });

  test('claude.ai, VS Code and ChatGPT redirect URIs register', async () => {
    for (const uris of [
      ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'],
      ['http://127.0.0.1:33418/', 'http://127.0.0.1/', 'https://vscode.dev/redirect', 'https://insiders.vscode.dev/redirect'],
      ['https://chatgpt.com/connector/oauth/abc123', 'https://chatgpt.com/connector_platform_oauth_redirect'],
    ]) {
      const r = await register(host, { client_name: 'c', redirect_uris: uris });
      assert.equal(r.status, 201, `${uris}: ${r.text}`);
      assert.deepEqual(r.json.redirect_uris, uris);
    }
  });
});

describe('/authorize', () => {
  let client;
  before(async () => {
    client = await registerPublicClient(host, [LOOPBACK_REDIRECT, 'https://app.example.com/cb'], 'authz-tests');
  });

  function params(over = {}) {
    const { challenge } = pkce();
    return {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: LOOPBACK_REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-123',
      resource: host.mcpUrl,
      ...over,
    };
  }

  test('not logged in → a login page (not a redirect), nothing stored', async () => {
    const before = await stored();
    const r = await authorize(host, params());
    assert.equal(r.status, 200, 'a page for a person (fastmcp gives up on a 401)');
    assert.equal(r.location, null, 'never redirected');
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.match(r.text, /log\s*in/i);
    assert.match(r.text, /href="[^"]*login/i, 'links to the login');
    await assertNothingStored(before, 'authorize without login');
  });

  test('a forged login cookie counts as not logged in', async () => {
    const r = await authorize(host, params(), 'login_user_token_insecure=forged');
    assert.equal(r.location, null);
    assert.equal(r.status, 200);
    assert.match(r.text, /log\s*in/i);
  });

  test('a non-admin Scrypted user → 403, nothing stored', async () => {
    const v = await viewerCredentials(host);
    const viewerCookie = await login(host.baseUrl, v.username, v.password);
    const before = await stored();
    const r = await authorize(host, params(), viewerCookie);
    assert.equal(r.status, 403, r.text.slice(0, 200));
    assert.equal(r.location, null);
    await assertNothingStored(before, 'authorize as viewer');
  });

  test('unknown client_id → error page, never redirected', async () => {
    const r = await authorize(host, params({ client_id: 'no-such-client' }), cookie);
    assert.ok(errorPage(r), `status ${r.status} location ${r.location}`);
  });

  test('redirect URI mismatch → error page, never redirected, nothing stored', async () => {
    const before = await stored();
    for (const redirect_uri of ['http://127.0.0.1:9/other', 'https://evil.example.com/cb', 'http://localhost:9/callback', 'https://app.example.com/cb/x']) {
      const r = await authorize(host, params({ redirect_uri }), cookie);
      assert.ok(errorPage(r), `${redirect_uri}: status ${r.status} location ${r.location}`);
    }
    await assertNothingStored(before, 'redirect mismatch');
  });

  test('loopback redirect on another port is accepted (any port), with iss', async () => {
    const r = await approveConsent(authorizeUrl(params({ redirect_uri: 'http://127.0.0.1:45678/callback' })), cookie);
    assert.equal(r.consented, true, 'a loopback client sees the consent page too');
    assert.equal(r.status, 302, r.text.slice(0, 200));
    const loc = new URL(r.location);
    assert.equal(loc.origin + loc.pathname, 'http://127.0.0.1:45678/callback');
    assert.ok(loc.searchParams.get('code'));
    assert.equal(loc.searchParams.get('state'), 'st-123');
    assert.equal(loc.searchParams.get('iss'), host.publicBase);
  });

  test('plain PKCE refused (error redirect invalid_request, no code), nothing stored', async () => {
    const before = await stored();
    const r = await authorize(host, params({ code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) }), cookie);
    assert.equal(r.status, 302, r.text.slice(0, 200));
    const loc = new URL(r.location);
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.equal(loc.searchParams.get('code'), null);
    assert.equal(loc.searchParams.get('state'), 'st-123');
    await assertNothingStored(before, 'plain PKCE');
  });

  test('missing code_challenge refused, nothing stored', async () => {
    const before = await stored();
    const r = await authorize(host, params({ code_challenge: undefined, code_challenge_method: undefined }), cookie);
    assert.equal(r.status, 302);
    const loc = new URL(r.location);
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.equal(loc.searchParams.get('code'), null);
    await assertNothingStored(before, 'missing PKCE');
  });

  test('unsupported response_type → unsupported_response_type', async () => {
    const r = await authorize(host, params({ response_type: 'token' }), cookie);
    assert.equal(r.status, 302);
    assert.equal(new URL(r.location).searchParams.get('error'), 'unsupported_response_type');
  });

  test('a different resource → invalid_target, nothing stored', async () => {
    const before = await stored();
    for (const resource of ['https://other.example.com/mcp', host.mcpUrl.replace(/mcp$/, 'other'), 'not a url']) {
      const r = await authorize(host, params({ resource }), cookie);
      assert.equal(r.status, 302, r.text.slice(0, 200));
      const loc = new URL(r.location);
      assert.equal(loc.searchParams.get('error'), 'invalid_target', resource);
      assert.equal(loc.searchParams.get('code'), null);
    }
    await assertNothingStored(before, 'invalid_target');
  });

  test('resource: trailing slash normalised, omitted defaults to the MCP URL', async () => {
    for (const resource of [host.mcpUrl + '/', undefined]) {
      const r = await approveConsent(authorizeUrl(params({ resource })), cookie);
      assert.equal(r.status, 302);
      assert.ok(new URL(r.location).searchParams.get('code'), `resource ${resource}`);
    }
  });

  test('https redirect gets a consent page with a CSRF-protected form; deny → access_denied', async () => {
    const r = await authorize(host, params({ redirect_uri: 'https://app.example.com/cb' }), cookie);
    assert.equal(r.status, 200, 'consent page, not an auto-approve');
    assert.equal(r.location, null);
    assert.match(r.text, /authz-tests/, 'names the client');
    assert.match(r.text, /app\.example\.com/, 'names the redirect host');
    // Another site must not be able to read the page (its CSRF token) or frame it.
    assert.match(r.headers.get('x-frame-options') ?? '', /deny/i);
    assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const u = new URL(host.url('/authorize'));
    for (const [k, v] of Object.entries(params({ redirect_uri: 'https://app.example.com/cb' }))) u.searchParams.set(k, v);
    const xo = await fetch(u, { headers: { cookie, origin: 'https://evil.example.com' }, redirect: 'manual' });
    assert.equal(xo.status, 200);
    assert.notEqual(xo.headers.get('access-control-allow-origin'), 'https://evil.example.com', 'no CORS read access to the consent page');
    assert.notEqual(xo.headers.get('access-control-allow-credentials'), 'true');
    const form = consentForm(r.text);
    const action = new URL(form.action, host.url('/authorize'));
    assert.ok(form.fields.csrf, `a csrf field among ${Object.keys(form.fields)}`);
    assert.deepEqual(form.buttons, [['decision', 'approve'], ['decision', 'deny']], 'Approve and Deny buttons');
    const post = (fields) => fetch(action, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
    // Without the right CSRF token → refused.
    const bad = await post({ ...form.fields, csrf: 'forged', decision: 'approve' });
    assert.equal(bad.status, 400, `forged CSRF → ${bad.status}`);
    assert.equal(bad.headers.get('location'), null, 'a forged approval is never redirected');
    const denied = await post({ ...form.fields, decision: 'deny' });
    assert.equal(denied.status, 302);
    const loc = new URL(denied.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, 'https://app.example.com/cb');
    assert.equal(loc.searchParams.get('error'), 'access_denied');
    assert.equal(loc.searchParams.get('code'), null);
    // Approve (on a fresh consent page) → code.
    const r2 = await authorize(host, params({ redirect_uri: 'https://app.example.com/cb' }), cookie);
    const ok = await post({ ...consentForm(r2.text).fields, decision: 'approve' });
    assert.equal(ok.status, 302);
    const okLoc = new URL(ok.headers.get('location'));
    assert.equal(okLoc.origin + okLoc.pathname, 'https://app.example.com/cb');
    assert.match(okLoc.searchParams.get('code') ?? '', /\S/);
    assert.equal(okLoc.searchParams.get('state'), 'st-123');
  });
});

describe('/token', () => {
  test('code exchange as a form and as JSON: 200, no-store, Bearer, expires_in, refresh_token', async () => {
    for (const json of [false, true]) {
      const c = await getCode(host, cookie);
      const r = await token(host, { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, client_id: c.client.client_id, resource: host.mcpUrl }, { json });
      assert.equal(r.status, 200, `${json ? 'JSON' : 'form'}: ${r.text}`);
      assertJson(r, 'token');
      assertNoStore(r, 'token');
      assert.equal(r.json.token_type.toLowerCase(), 'bearer');
      assert.equal(r.json.expires_in, ACCESS_TTL, 'the manifest default access_token_ttl_sec');
      assert.match(r.json.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWS compact access token');
      assert.match(r.json.refresh_token, /\S/);
    }
  });

  test('wrong code_verifier → invalid_grant, nothing stored beyond the code itself', async () => {
    const c = await getCode(host, cookie);
    const before = await stored();
    const r = await token(host, { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: pkce().verifier, client_id: c.client.client_id });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_grant');
    assertNoStore(r, 'token error');
    const after = JSON.parse(await stored());
    for (const k of after) assert.ok(JSON.parse(before).includes(k), `nothing new stored (${k})`);
  });

  test('redirect_uri at /token must match the one at /authorize', async () => {
    const c = await getCode(host, cookie);
    const r = await token(host, { grant_type: 'authorization_code', code: c.code, redirect_uri: 'http://127.0.0.1:9/other', code_verifier: c.verifier, client_id: c.client.client_id });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_grant');
  });

  test('code for one client used by another → invalid_grant', async () => {
    const c = await getCode(host, cookie);
    const other = await registerPublicClient(host);
    const r = await token(host, { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, client_id: other.client_id });
    assert.equal(r.status, 400);
    // RFC 6749 §4.1.3: the code was not issued to this client_id → invalid_grant.
    assert.equal(r.json.error, 'invalid_grant');
  });

  test('resource mismatch at /token → invalid_target', async () => {
    const c = await getCode(host, cookie);
    const r = await token(host, { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, client_id: c.client.client_id, resource: 'https://other.example.com/mcp' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_target');
  });

  test('unknown client → 401 invalid_client; unsupported grant → unsupported_grant_type; bogus code → invalid_grant; nothing stored', async () => {
    const before = await stored();
    const a = await token(host, { grant_type: 'authorization_code', code: 'x', redirect_uri: LOOPBACK_REDIRECT, code_verifier: pkce().verifier, client_id: 'no-such-client' });
    assert.equal(a.status, 401);
    assert.equal(a.json.error, 'invalid_client');
    await assertNothingStored(before, 'token request of an unknown client');
    const client = await registerPublicClient(host);
    const mid = await stored();
    const b = await token(host, { grant_type: 'password', username: 'admin', password: 'x', client_id: client.client_id });
    assert.equal(b.status, 400);
    assert.equal(b.json.error, 'unsupported_grant_type');
    const c = await token(host, { grant_type: 'authorization_code', code: 'bogus', redirect_uri: LOOPBACK_REDIRECT, code_verifier: pkce().verifier, client_id: client.client_id });
    assert.equal(c.status, 400);
    assert.equal(c.json.error, 'invalid_grant');
    const d = await token(host, { grant_type: 'refresh_token', refresh_token: 'bogus', client_id: client.client_id });
    assert.equal(d.status, 400);
    assert.equal(d.json.error, 'invalid_grant');
    await assertNothingStored(mid, 'failed token requests');
  });

  test('a replayed code is refused and revokes what it issued', async () => {
    const c = await getCode(host, cookie);
    const p = { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, client_id: c.client.client_id };
    const first = await token(host, p);
    assert.equal(first.status, 200);
    const replay = await token(host, p);
    assert.equal(replay.status, 400);
    assert.equal(replay.json.error, 'invalid_grant');
    const refresh = await token(host, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token, client_id: c.client.client_id });
    assert.equal(refresh.status, 400, 'the refresh token issued from the replayed code is revoked');
    assert.equal(refresh.json.error, 'invalid_grant');
    const mcp = await mcpRequest(host.mcpUrl, { token: first.json.access_token, body: initBody(), protocolVersion: null });
    assert.equal(mcp.status, 401, 'the access token issued from the replayed code is revoked');
  });

  test('concurrent exchanges of one code: exactly one succeeds', async () => {
    const c = await getCode(host, cookie);
    const p = { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, client_id: c.client.client_id };
    const rs = await Promise.all([token(host, p), token(host, p), token(host, p)]);
    assert.deepEqual(rs.map((r) => r.status).sort(), [200, 400, 400]);
    for (const r of rs.filter((x) => x.status === 400)) assert.equal(r.json.error, 'invalid_grant');
  });

  test('refresh rotates; the old token inside the reuse window gets nothing; reuse after it revokes the family and its access tokens', async () => {
    const { client, tokens: t0 } = await obtainTokens(host, cookie);
    const cid = client.client_id;
    const r1 = await token(host, { grant_type: 'refresh_token', refresh_token: t0.refresh_token, client_id: cid, resource: host.mcpUrl });
    assert.equal(r1.status, 200, r1.text);
    assertNoStore(r1, 'refresh');
    assert.ok(r1.json.refresh_token && r1.json.refresh_token !== t0.refresh_token, 'rotated');
    assert.equal(r1.json.expires_in, ACCESS_TTL, 'docs/reference/client-compat.md §3: every refresh answer has expires_in');
    // The rotated-out token again at once (a retry, a second refresher): no token, grant lives on.
    const retry = await token(host, { grant_type: 'refresh_token', refresh_token: t0.refresh_token, client_id: cid }, { json: true });
    assert.equal(retry.status, 400, `retry: ${retry.text}`);
    assert.equal(retry.json.error, 'invalid_grant');
    assert.equal(retry.json.refresh_token, undefined);
    const latest = r1.json.refresh_token;
    const latestAccess = r1.json.access_token;
    assert.equal((await mcpRequest(host.mcpUrl, { token: latestAccess, body: initBody(), protocolVersion: null })).status, 200);
    // After the window (10 minutes later, well inside the token lifetimes) → family revoked.
    await host.advanceClock(10 * 60 * 1000);
    const reuse = await token(host, { grant_type: 'refresh_token', refresh_token: t0.refresh_token, client_id: cid });
    assert.equal(reuse.status, 400);
    assert.equal(reuse.json.error, 'invalid_grant');
    const successor = await token(host, { grant_type: 'refresh_token', refresh_token: latest, client_id: cid });
    assert.equal(successor.status, 400, 'the current refresh token is revoked with the family');
    assert.equal(successor.json.error, 'invalid_grant');
    const mcp = await mcpRequest(host.mcpUrl, { token: latestAccess, body: initBody(), protocolVersion: null });
    assert.equal(mcp.status, 401, 'and so are its access tokens');
  });

  test("a removed user's refresh token stops working", async () => {
    const admin = (await obtainTokens(host, cookie)).tokens.access_token;
    const { sessionId } = await initialize(host.mcpUrl, admin);
    const tool = async (name, args) => {
      const r = await mcpRequest(host.mcpUrl, { token: admin, sessionId, body: req('tools/call', { name, arguments: args }) });
      assert.notEqual(r.messages[0].result?.isError ?? true, true, r.text);
    };
    await tool('add_user', { username: 'temp-admin', password: 'temp-admin-pw', admin: true });
    const { client, tokens } = await obtainTokens(host, await login(host.baseUrl, 'temp-admin', 'temp-admin-pw'));
    assert.equal(jwtParts(tokens.access_token).payload.sub, 'temp-admin');
    const before = await token(host, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
    assert.equal(before.status, 200, 'works while the user exists');
    await tool('remove_user', { username: 'temp-admin' });
    const after = await token(host, { grant_type: 'refresh_token', refresh_token: before.json.refresh_token, client_id: client.client_id });
    assert.equal(after.status, 400);
    assert.equal(after.json.error, 'invalid_grant');
  });

  test('a refresh token belongs to its client', async () => {
    const { tokens } = await obtainTokens(host, cookie);
    const other = await registerPublicClient(host);
    const r = await token(host, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: other.client_id });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_grant');
  });

  test('/revoke of a refresh token ends it', async () => {
    const { client, tokens } = await obtainTokens(host, cookie);
    const r = await fetch(host.url('/revoke'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token, token_type_hint: 'refresh_token', client_id: client.client_id }),
    });
    assert.equal(r.status, 200);
    const after = await token(host, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
    assert.equal(after.status, 400);
    assert.equal(after.json.error, 'invalid_grant');
    const unknown = await fetch(host.url('/revoke'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'never-issued', client_id: client.client_id }),
    });
    assert.equal(unknown.status, 200, 'RFC 7009: unknown tokens are not an error');
  });
});
