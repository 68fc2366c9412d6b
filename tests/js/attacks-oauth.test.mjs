// Issue 8, the OAuth and token side: the attacks of the review, against the real wasm behind
// the real shim in the dev host. Each case asserts the exact status and error code, and that
// nothing was stored or changed. Tokens are forged the way a backup's holder can: with the
// signing key read from plugin storage. The MCP and tools side is attacks-mcp.test.mjs.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, sign as cryptoSign, createPublicKey } from 'node:crypto';
import AdmZip from 'adm-zip';
import { startLoggedIn, login, authorize, authorizeUrl, approveConsent, token, pkce, getCode, obtainTokens, registerPublicClient, jwtParts, b64url, LOOPBACK_REDIRECT } from './helpers/oauth.mjs';
import { mcpRequest, initialize, req } from './helpers/mcp.mjs';

const USER_CHECK_MS = 3000; // src/oauth/bearer.rs USER_CHECK_MS
const ACCESS_TTL = 3600; // scrypted-manifest.json access_token_ttl_sec default
// The P-256 group order: (r, n − s) verifies as well as (r, s).
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

let host;
let cookie;

before(async () => ({ host, cookie } = await startLoggedIn()));
after(() => host?.stop());

const storage = async () => host.pluginStorage();
/** The storage keys (a last-used time changing is not "storing something"). */
const keys = async () => Object.keys(await storage()).sort();
const grantsOf = async (sub) =>
  Object.entries(await storage()).filter(([k, v]) => k.startsWith('oauth.grant.') && JSON.parse(v).sub === sub).length;
const codeKeys = async () => (await keys()).filter((k) => k.startsWith('oauth.code.'));

const ping = (accessToken, extra = {}) => mcpRequest(host.mcpUrl, { token: accessToken, body: req('ping'), protocolVersion: null, ...extra });
const initBody = () => req('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'attacker', version: '1' } });
/** An MCP request the endpoint answers 200 once the token is good. */
const use = (accessToken, headers = {}) => mcpRequest(host.mcpUrl, { token: accessToken, body: initBody(), protocolVersion: null, headers });

function assertInvalidToken(r, what) {
  assert.equal(r.status, 401, `${what}: ${r.text}`);
  assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/, what);
}

const bigint = (buf) => BigInt('0x' + Buffer.from(buf).toString('hex'));
const bytes32 = (n) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');

/** ES256 over `header.payload` with the stored key, low-S as we sign (so only the claims decide). */
async function forge(header, payload) {
  const pem = (await storage())['oauth.signing_key'];
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = cryptoSign('sha256', Buffer.from(input), { key: pem, dsaEncoding: 'ieee-p1363' });
  let s = bigint(sig.subarray(32));
  if (s > N / 2n) s = N - s;
  return `${input}.${b64url(Buffer.concat([sig.subarray(0, 32), bytes32(s)]))}`;
}

/** A tools/call in a fresh legacy session of `accessToken`: the JSON-RPC answer. */
async function callTool(accessToken, name, args = {}) {
  const { sessionId } = await initialize(host.mcpUrl, accessToken);
  const body = req('tools/call', { name, arguments: args });
  const r = await mcpRequest(host.mcpUrl, { token: accessToken, sessionId, body });
  assert.equal(r.status, 200, r.text);
  return r.messages.find((m) => m.id === body.id);
}

/** A second Scrypted admin, added through MCP and logged in: {username, cookie, client, tokens}. */
async function secondAdmin(adminToken, username) {
  const added = await callTool(adminToken, 'add_user', { username, password: `${username}-pw-123`, admin: true });
  assert.notEqual(added.result?.isError, true, JSON.stringify(added));
  const theirCookie = await login(host.baseUrl, username, `${username}-pw-123`);
  const { client, tokens } = await obtainTokens(host, theirCookie);
  return { username, cookie: theirCookie, client, tokens };
}

describe('item 1: an admin removed or demoted outside MCP', () => {
  for (const action of ['demote', 'remove']) {
    test(`${action}d in Scrypted → 401 invalid_token within ${USER_CHECK_MS} ms, every grant of the user ends`, async () => {
      const admin = (await obtainTokens(host, cookie)).tokens.access_token;
      const them = await secondAdmin(admin, `${action}-me`);
      const second = await obtainTokens(host, them.cookie);
      assert.equal((await use(them.tokens.access_token)).status, 200, 'works while an admin');
      assert.equal(await grantsOf(them.username), 2);
      const changed = await host.user(them.username, action);
      assert.equal(changed.admin, false);
      await host.advanceClock(USER_CHECK_MS);
      assertInvalidToken(await use(them.tokens.access_token), action);
      assert.equal(await grantsOf(them.username), 0, 'both grants ended');
      assertInvalidToken(await use(second.tokens.access_token), `${action}: the other grant`);
      const r = await token(host, { grant_type: 'refresh_token', refresh_token: them.tokens.refresh_token, client_id: them.client.client_id });
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'invalid_grant');
      // The admin who did nothing keeps working.
      assert.equal((await use(admin)).status, 200);
    });
  }
});

describe('item 4: tokens forged with the signing key (every backup holds it)', () => {
  let real;
  let other;
  let claims;
  let header;
  before(async () => {
    real = await obtainTokens(host, cookie);
    other = await obtainTokens(host, cookie);
    ({ header, payload: claims } = jwtParts(real.tokens.access_token));
  });

  test('a token minted exactly as the plugin mints works (the forger has the key)', async () => {
    assert.equal((await use(await forge(header, { ...claims, jti: 'forged' }))).status, 200);
  });

  for (const [what, edit] of [
    ['another user as sub', (c) => ({ ...c, sub: 'viewer' })],
    ['a user with no grant as sub', (c) => ({ ...c, sub: 'nobody' })],
    ['another client of the same grant user', (c) => ({ ...c, client_id: other.client.client_id })],
    ['a grant id that does not exist', (c) => ({ ...c, gid: 'AAAAAAAAAAAAAAAAAAAAAA' })],
    ['a ten-year lifetime', (c) => ({ ...c, exp: c.iat + 10 * 365 * 86400 })],
    ['one second over the configured lifetime', (c) => ({ ...c, exp: c.iat + ACCESS_TTL + 1 })],
    ['issued an hour in the future', (c) => ({ ...c, iat: c.iat + 3600, exp: c.iat + 3600 + 60 })],
    ['no iat', ({ iat, ...c }) => c],
    ['another issuer', (c) => ({ ...c, iss: 'https://evil.example/endpoint/scrypted-mcp/public' })],
  ]) {
    test(`forged with ${what} → 401 invalid_token, nothing changed`, async () => {
      const before = await keys();
      assertInvalidToken(await use(await forge(header, edit(claims))), what);
      assert.deepEqual(await keys(), before);
    });
  }

  test("create_backup says it holds the signing secrets; the backup carries the key's mark, live storage does not", async () => {
    const access = real.tokens.access_token;
    const { sessionId } = await initialize(host.mcpUrl, access);
    const list = await mcpRequest(host.mcpUrl, { token: access, sessionId, body: req('tools/list') });
    const def = list.messages[0].result.tools.find((t) => t.name === 'create_backup');
    assert.match(def.description, /this plugin's signing secrets/);
    const answer = await callTool(access, 'create_backup');
    const text = JSON.stringify(answer.result.structuredContent);
    assert.match(text, /this plugin's signing secrets/);
    const blob = answer.result.content.find((c) => c.type === 'resource').resource.blob;
    const db = JSON.parse(new AdmZip(Buffer.from(blob, 'base64')).readFile('000003.log').toString());
    const ours = db.devices.find((d) => d.storage?.['oauth.signing_key']);
    assert.equal(ours.storage['oauth.signing_key_backed_up'], header.kid, 'the backup marks its key');
    assert.equal((await storage())['oauth.signing_key_backed_up'], undefined, 'live storage is unmarked');
    assert.equal((await use(access)).status, 200, 'the live key is unchanged');
  });
});

describe('item 2: refresh tokens', () => {
  test('150 parallel refreshes of one token → exactly one 200; the rest invalid_grant; the grant lives', async () => {
    const { client, tokens } = await obtainTokens(host, cookie);
    const answers = await Promise.all(
      Array.from({ length: 150 }, () => token(host, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id })),
    );
    const winners = answers.filter((a) => a.status === 200);
    assert.equal(winners.length, 1, `winners: ${winners.length}`);
    for (const a of answers.filter((x) => x.status !== 200)) {
      assert.equal(a.status, 400);
      assert.equal(a.json.error, 'invalid_grant');
      assert.equal(a.json.refresh_token, undefined);
    }
    assert.equal((await use(winners[0].json.access_token)).status, 200);
    const next = await token(host, { grant_type: 'refresh_token', refresh_token: winners[0].json.refresh_token, client_id: client.client_id });
    assert.equal(next.status, 200, next.text);
  });

  test('the rotated-out token later (theft) → invalid_grant and the whole family ends', async () => {
    const { client, tokens } = await obtainTokens(host, cookie);
    const cid = client.client_id;
    const r1 = await token(host, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: cid });
    await host.advanceClock(11_000);
    const thief = await token(host, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: cid });
    assert.equal(thief.status, 400);
    assert.equal(thief.json.error, 'invalid_grant');
    assertInvalidToken(await use(r1.json.access_token), 'family');
    const legit = await token(host, { grant_type: 'refresh_token', refresh_token: r1.json.refresh_token, client_id: cid });
    assert.equal(legit.json.error, 'invalid_grant');
  });

  test('a refresh token presented by another client → invalid_grant, nothing changed', async () => {
    const a = await obtainTokens(host, cookie);
    const b = await registerPublicClient(host);
    const before = await storage();
    const r = await token(host, { grant_type: 'refresh_token', refresh_token: a.tokens.refresh_token, client_id: b.client_id });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_grant');
    const after = await storage();
    assert.equal(after[`oauth.grant.${a.tokens.refresh_token.split('.')[0]}`], before[`oauth.grant.${a.tokens.refresh_token.split('.')[0]}`]);
  });
});

describe('item 13: a parameter sent twice', () => {
  const form = (path, body, headers = {}) =>
    fetch(host.url(path), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body }).then(async (r) => ({ status: r.status, json: await r.json().catch(() => null) }));

  for (const name of ['redirect_uri', 'code_verifier', 'code', 'client_id']) {
    test(`/token with ${name} twice → 400 invalid_request naming it; the code still works`, async () => {
      const c = await getCode(host, cookie);
      const fields = new URLSearchParams({ grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, client_id: c.client.client_id });
      fields.append(name, name === 'redirect_uri' ? 'http://127.0.0.1:1/evil' : fields.get(name));
      const before = await keys();
      const r = await form('/token', fields.toString());
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'invalid_request');
      assert.match(r.json.error_description, new RegExp(name));
      assert.deepEqual(await keys(), before);
      const ok = await token(host, { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, client_id: c.client.client_id });
      assert.equal(ok.status, 200, ok.text);
    });
  }

  test('/revoke with token twice → 400 invalid_request; the token lives', async () => {
    const { tokens } = await obtainTokens(host, cookie);
    const r = await form('/revoke', new URLSearchParams([['token', tokens.refresh_token], ['token', 'x']]).toString());
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_request');
    assert.equal((await use(tokens.access_token)).status, 200);
  });

  for (const name of ['state', 'redirect_uri', 'code_challenge']) {
    test(`/authorize with ${name} twice → a 400 page naming it, no redirect, no code`, async () => {
      const client = await registerPublicClient(host);
      const { challenge } = pkce();
      const u = new URL(host.url('/authorize'));
      const q = { response_type: 'code', client_id: client.client_id, redirect_uri: LOOPBACK_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's1' };
      for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
      u.searchParams.append(name, name === 'redirect_uri' ? 'http://127.0.0.1:1/evil' : 'second');
      const before = await codeKeys();
      const r = await fetch(u, { redirect: 'manual', headers: { cookie } });
      const page = await r.text();
      assert.equal(r.status, 400);
      assert.equal(r.headers.get('location'), null);
      assert.match(page, new RegExp(`invalid_request: the parameter ${name}`));
      assert.deepEqual(await codeKeys(), before);
    });
  }
});

describe('item 14: pending codes per client', () => {
  test("40 authorizations through 8 clients never evict a victim's pending code", async () => {
    const victim = await getCode(host, cookie);
    const attackers = await Promise.all(Array.from({ length: 8 }, () => registerPublicClient(host)));
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const { challenge } = pkce();
      // Each attacker's first visit is approved on the consent page, the rest are silent.
      const a = await approveConsent(authorizeUrl(host, { response_type: 'code', client_id: attackers[i % 8].client_id, redirect_uri: LOOPBACK_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' }), cookie);
      assert.equal(a.status, 302);
      if (new URL(a.location).searchParams.get('error') === 'temporarily_unavailable') refused++;
    }
    assert.ok((await codeKeys()).length <= 32, 'the global bound holds');
    assert.ok(refused >= 1, 'a full table refuses the newcomer instead of evicting');
    const t = await token(host, { grant_type: 'authorization_code', code: victim.code, redirect_uri: victim.redirectUri, code_verifier: victim.verifier, client_id: victim.client.client_id });
    assert.equal(t.status, 200, `the victim's code survived: ${t.text}`);
  });
});

describe('item 12: forwarded headers', () => {
  const fwd = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example' };
  const publicMcp = 'https://public.example/endpoint/scrypted-mcp/public/mcp';

  test('from anyone, unlisted: the metadata and a token follow Host', async () => {
    const r = await fetch(host.url('/.well-known/oauth-protected-resource'), { headers: fwd });
    assert.equal((await r.json()).resource, host.mcpUrl);
  });

  test('a token minted at a listed Public URL does not work at the LAN URL, nor one minted on the LAN through it', async () => {
    const set = await host.putSetting('public_urls', 'https://public.example');
    assert.equal(set.status, 200, JSON.stringify(set));
    // Behind an https proxy the browser holds Scrypted's https login cookie.
    const r = await fetch(`${host.baseUrl}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json', ...fwd }, body: JSON.stringify({ username: host.username, password: host.password }) });
    const httpsCookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('login_user_token='));
    assert.ok(httpsCookie, 'an https login cookie');
    try {
      const client = await registerPublicClient(host);
      const { verifier, challenge } = pkce();
      const u = authorizeUrl(host, { response_type: 'code', client_id: client.client_id, redirect_uri: LOOPBACK_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', resource: publicMcp });
      const a = await approveConsent(u, httpsCookie, { headers: { ...fwd, origin: 'https://public.example' } });
      assert.equal(a.status, 302, a.text);
      const code = new URL(a.location).searchParams.get('code');
      const t = await fetch(host.url('/token'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...fwd },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: LOOPBACK_REDIRECT, code_verifier: verifier, client_id: client.client_id }),
      }).then((r) => r.json());
      assert.equal(jwtParts(t.access_token).payload.aud, publicMcp);
      assert.equal((await use(t.access_token, fwd)).status, 200, 'works at the public URL');
      assertInvalidToken(await use(t.access_token), 'the public token on the LAN URL');
      const lan = (await obtainTokens(host, cookie)).tokens.access_token;
      assertInvalidToken(await use(lan, fwd), 'a LAN token through the public URL');
    } finally {
      await host.putSetting('public_urls', '');
    }
  });

  test('the setting refuses a URL with a path, and changes nothing', async () => {
    const before = await storage();
    const r = await host.putSetting('public_urls', 'https://public.example/some/path');
    assert.equal(r.status, 400);
    assert.match(r.error, /public_urls/);
    assert.deepEqual(await storage(), before);
  });
});

describe('item 5: CORS', () => {
  test('set_cors on this plugin (by id and by device) → refused, no host call', async () => {
    const access = (await obtainTokens(host, cookie)).tokens.access_token;
    const calls = (await host.calls()).length;
    for (const id of ['scrypted-mcp', '3']) {
      const answer = await callTool(access, 'set_cors', { id, origins: ['https://evil.example'] });
      assert.equal(answer.result.isError, true);
      assert.match(answer.result.content[0].text, /^Refused: /);
    }
    const after = await host.calls();
    assert.equal(after.slice(calls).filter((c) => /setCORS/i.test(c.method)).length, 0);
    assert.deepEqual((await host.state()).cors['scrypted-mcp'] ?? [], []);
  });

  test('/authorize (GET, POST, OPTIONS) is never readable cross-origin, never with credentials', async () => {
    const client = await registerPublicClient(host, ['https://app.example.com/cb']);
    const u = new URL(host.url('/authorize'));
    u.searchParams.set('client_id', client.client_id);
    for (const method of ['GET', 'POST', 'OPTIONS']) {
      const r = await fetch(u, { method, redirect: 'manual', headers: { cookie, origin: 'https://evil.example' } });
      assert.notEqual(r.headers.get('access-control-allow-origin'), 'https://evil.example', method);
      assert.equal(r.headers.get('access-control-allow-credentials'), 'false', method);
    }
  });

  test('/token is readable by a browser client, without credentials; /mcp does not echo a foreign origin', async () => {
    const t = await fetch(host.url('/token'), { method: 'POST', headers: { origin: 'https://app.example' } });
    assert.equal(t.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(t.headers.get('access-control-allow-credentials'), 'false');
    const m = await mcpRequest(host.mcpUrl, { body: req('ping'), headers: { origin: 'https://evil.example' } });
    assert.equal(m.status, 403);
    assert.notEqual(m.headers.get('access-control-allow-origin'), 'https://evil.example');
  });
});

describe('item 16: a malleated signature, a quote in the challenge', () => {
  test('(r, n − s) of a genuine token → 401 invalid_token', async () => {
    const { tokens } = await obtainTokens(host, cookie);
    const [h, p, s] = tokens.access_token.split('.');
    const sig = Buffer.from(s, 'base64url');
    const high = N - bigint(sig.subarray(32));
    assert.ok(high > N / 2n, 'the plugin signs low-S');
    const malleated = `${h}.${p}.${b64url(Buffer.concat([sig.subarray(0, 32), bytes32(high)]))}`;
    assertInvalidToken(await use(malleated), 'high S');
    assert.equal((await use(tokens.access_token)).status, 200);
  });

  test('X-Forwarded-Host with a quote cannot add parameters to WWW-Authenticate', async () => {
    const r = await ping(undefined, { headers: { 'x-forwarded-host': 'x.example", error="injected' } });
    assert.equal(r.status, 401);
    const challenge = r.headers.get('www-authenticate');
    assert.doesNotMatch(challenge, /injected/);
    assert.match(challenge, new RegExp(`resource_metadata="${host.publicBase.replace(/[.]/g, '\\.')}/\\.well-known/oauth-protected-resource"`));
  });
});

describe('attacks that held before, kept', () => {
  test('alg none, HS256 keyed with the public key, a tampered payload, garbage → 401 invalid_token', async () => {
    const { tokens } = await obtainTokens(host, cookie);
    const { header, payload } = jwtParts(tokens.access_token);
    const [h, p, s] = tokens.access_token.split('.');
    const none = `${b64url(JSON.stringify({ ...header, alg: 'none' }))}.${p}.`;
    const jwk = (await (await fetch(host.url('/.well-known/jwks.json'))).json()).keys[0];
    const pub = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const hsInput = `${b64url(JSON.stringify({ ...header, alg: 'HS256' }))}.${p}`;
    const hs = `${hsInput}.${b64url(createHmac('sha256', pub).update(hsInput).digest())}`;
    const tampered = `${h}.${b64url(JSON.stringify({ ...payload, exp: payload.exp + 86400 }))}.${s}`;
    for (const [what, t] of [['none', none], ['HS256', hs], ['tampered', tampered], ['garbage', 'a.b.c']]) {
      assertInvalidToken(await use(t), what);
    }
  });

  test('no bearer → 401 with the bare challenge; a token in the query string does not count', async () => {
    const { tokens } = await obtainTokens(host, cookie);
    const bare = await ping(undefined);
    assert.equal(bare.status, 401);
    assert.doesNotMatch(bare.headers.get('www-authenticate'), /error=/);
    const q = await mcpRequest(`${host.mcpUrl}?access_token=${tokens.access_token}`, { body: req('ping') });
    assert.equal(q.status, 401);
  });

  test('a token at another origin of the same server (wrong audience) → 401 invalid_token', async () => {
    const { tokens } = await obtainTokens(host, cookie);
    const other = host.mcpUrl.replace('127.0.0.1', 'localhost');
    assert.notEqual(other, host.mcpUrl);
    const r = await mcpRequest(other, { token: tokens.access_token, body: initBody(), protocolVersion: null });
    assertInvalidToken(r, 'audience');
  });

  test('an expired access token → 401 invalid_token', async () => {
    const { tokens } = await obtainTokens(host, cookie);
    await host.advanceClock((ACCESS_TTL + 1) * 1000);
    assertInvalidToken(await use(tokens.access_token), 'expired');
  });

  for (const [what, edit, error] of [
    ['a wrong PKCE verifier', (f) => ({ ...f, code_verifier: pkce().verifier }), 'invalid_grant'],
    ['another redirect_uri', (f) => ({ ...f, redirect_uri: 'http://127.0.0.1:9/other' }), 'invalid_grant'],
    ['no code_verifier', ({ code_verifier, ...f }) => f, 'invalid_request'],
  ]) {
    test(`code exchange with ${what} → 400 ${error}, nothing stored`, async () => {
      const c = await getCode(host, cookie);
      const fields = { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, client_id: c.client.client_id };
      const before = await keys();
      const r = await token(host, edit(fields));
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error, error);
      assert.deepEqual(await keys(), before);
    });
  }

  test('a code exchanged by another client → invalid_grant; the code is reused later → its tokens are revoked', async () => {
    const c = await getCode(host, cookie);
    const stranger = await registerPublicClient(host);
    const fields = { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier };
    const wrong = await token(host, { ...fields, client_id: stranger.client_id });
    assert.equal(wrong.json.error, 'invalid_grant');
    const first = await token(host, { ...fields, client_id: c.client.client_id });
    assert.equal(first.status, 200);
    const replay = await token(host, { ...fields, client_id: c.client.client_id });
    assert.equal(replay.status, 400);
    assert.equal(replay.json.error, 'invalid_grant');
    assertInvalidToken(await use(first.json.access_token), 'revoked by the replay');
  });

  test('an expired code (61 s) → invalid_grant', async () => {
    const c = await getCode(host, cookie);
    await host.advanceClock(61_000);
    const r = await token(host, { grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, client_id: c.client.client_id });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_grant');
  });

  test('/authorize to an unregistered redirect_uri → a 400 page, never a redirect, no code', async () => {
    const client = await registerPublicClient(host);
    const before = await codeKeys();
    const a = await authorize(host, { response_type: 'code', client_id: client.client_id, redirect_uri: 'http://127.0.0.1:1/evil', code_challenge: pkce().challenge, code_challenge_method: 'S256' }, cookie);
    assert.equal(a.status, 400);
    assert.equal(a.location, null);
    assert.deepEqual(await codeKeys(), before);
  });
});
