// The protected-resource side of OAuth over real HTTP to the dev host (real wasm + shim): the
// discovery documents and JWKS, and the MCP endpoint's refusal of anything but our own valid
// access token (Scrypted's own credentials included). The authorization server's errors are
// in oauth-errors.test.mjs.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { startLoggedIn, obtainTokens, jwtParts, b64url } from './helpers/oauth.mjs';
import { mcpRequest, req, initialize } from './helpers/mcp.mjs';
import { viewAt } from './helpers/devhost.mjs';

let host;
let cookie;

before(async () => ({ host, cookie } = await startLoggedIn()));
after(() => host?.stop());

function assertJson(r, what) {
  assert.match(r.headers.get('content-type') ?? '', /application\/json/, `${what}: JSON`);
}

/** Parses `Bearer k="v", k2="v2"`. */
function challenge(h) {
  assert.ok(h, 'WWW-Authenticate present');
  assert.match(h, /^Bearer\s/i);
  const params = {};
  for (const m of h.matchAll(/([a-z_]+)="([^"]*)"/gi)) params[m[1]] = m[2];
  return params;
}

describe('metadata', () => {
  test('protected resource metadata names this MCP URL and our issuer', async () => {
    const r = await fetch(host.url('/.well-known/oauth-protected-resource'));
    assert.equal(r.status, 200);
    const prm = await r.json();
    assert.equal(prm.resource, host.mcpUrl);
    assert.deepEqual(prm.authorization_servers, [host.publicBase]);
    assert.deepEqual(prm.bearer_methods_supported, ['header']);
    // docs/reference/client-compat.md §2: the server's scopes, without offline_access.
    assert.deepEqual(prm.scopes_supported, ['scrypted:read', 'scrypted:control', 'scrypted:admin']);
  });

  test('AS metadata: one document at both paths, issuer string-equal, OIDC fields the TS SDK requires', async () => {
    const { OpenIdProviderDiscoveryMetadataSchema, OAuthMetadataSchema } = await import('@modelcontextprotocol/sdk/shared/auth.js');
    const oidcR = await fetch(host.url('/.well-known/openid-configuration'));
    const asR = await fetch(host.url('/.well-known/oauth-authorization-server'));
    assert.equal(oidcR.status, 200);
    assert.equal(asR.status, 200);
    assertJson(oidcR, 'openid-configuration');
    const oidc = await oidcR.json();
    const as = await asR.json();
    assert.deepEqual(as, oidc);
    OpenIdProviderDiscoveryMetadataSchema.parse(oidc); // throws like the SDK would
    OAuthMetadataSchema.parse(as);
    assert.equal(oidc.issuer, host.publicBase);
    assert.equal(oidc.authorization_endpoint, `${host.publicBase}/authorize`);
    assert.equal(oidc.token_endpoint, `${host.publicBase}/token`);
    assert.equal(oidc.registration_endpoint, `${host.publicBase}/register`);
    assert.equal(oidc.revocation_endpoint, `${host.publicBase}/revoke`);
    assert.equal(oidc.jwks_uri, `${host.publicBase}/.well-known/jwks.json`);
    assert.deepEqual(oidc.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(oidc.response_types_supported, ['code']);
    assert.deepEqual(oidc.token_endpoint_auth_methods_supported, ['none']);
    assert.deepEqual(oidc.scopes_supported, ['scrypted:read', 'scrypted:control', 'scrypted:admin']);
    assert.deepEqual([...oidc.grant_types_supported].sort(), ['authorization_code', 'refresh_token']);
    assert.deepEqual(oidc.subject_types_supported, ['public']);
    assert.deepEqual(oidc.id_token_signing_alg_values_supported, ['ES256']);
    assert.equal(oidc.authorization_response_iss_parameter_supported, true);
  });

  test('the issuer follows the origin the client used', async () => {
    const alt = viewAt(host, host.baseUrl.replace('127.0.0.1', 'localhost'));
    const r = await fetch(alt.url('/.well-known/oauth-authorization-server'));
    assert.equal(r.status, 200);
    const m = await r.json();
    assert.equal(m.issuer, alt.publicBase);
    assert.notEqual(alt.publicBase, host.publicBase);
  });

  test('JWKS publishes the public P-256 key our access tokens verify with, and no private part', async () => {
    const r = await fetch(host.url('/.well-known/jwks.json'));
    assert.equal(r.status, 200);
    const { keys } = await r.json();
    assert.equal(keys.length, 1, 'one signing key');
    const [k] = keys;
    assert.equal(k.kty, 'EC');
    assert.equal(k.crv, 'P-256');
    assert.equal(k.d, undefined, 'no private part');
    // RFC 7515/7517: a relying party picks the key by kid and verifies the ES256 signature.
    const { tokens } = await obtainTokens(host, cookie);
    const [h, p, sig] = tokens.access_token.split('.');
    assert.match(k.kid ?? '', /\S/, 'the key has a kid');
    assert.equal(jwtParts(tokens.access_token).header.kid, k.kid, 'the token names the published key');
    const pub = createPublicKey({ key: k, format: 'jwk' });
    assert.equal(cryptoVerify('sha256', Buffer.from(`${h}.${p}`), { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url')), true, 'the signature verifies with the published key');
  });

  test('unknown paths under the prefix get a JSON 404, never HTML', async () => {
    const r = await fetch(host.url('/.well-known/nope'));
    assert.equal(r.status, 404);
    assertJson(r, 'unknown path');
  });
});

describe('MCP endpoint accepts only its own valid token', () => {
  let good;
  before(async () => {
    good = (await obtainTokens(host, cookie)).tokens;
  });

  const prmUrl = () => `${host.publicBase}/.well-known/oauth-protected-resource`;
  const init = () => req('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });

  test('no token → 401 with the exact resource_metadata challenge', async () => {
    const r = await mcpRequest(host.mcpUrl, { body: init(), protocolVersion: null });
    assert.equal(r.status, 401);
    const p = challenge(r.headers.get('www-authenticate'));
    assert.equal(p.resource_metadata, prmUrl());
    assert.equal(p.error, undefined, 'no error when no token was sent');
    assert.equal(p.scope, 'scrypted:read scrypted:control scrypted:admin', 'the challenge names every scope (the consent page may grant less)');
  });

  async function assertInvalidToken(headers, what) {
    const r = await mcpRequest(host.mcpUrl, { body: init(), protocolVersion: null, headers });
    assert.equal(r.status, 401, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
    const p = challenge(r.headers.get('www-authenticate'));
    assert.equal(p.resource_metadata, prmUrl(), what);
    return p;
  }

  test('garbage, alg none, self-signed and tampered JWTs → 401 invalid_token', async () => {
    const { header, payload } = jwtParts(good.access_token);
    const enc = (o) => b64url(JSON.stringify(o));
    const none = `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signingInput = `${enc(header)}.${enc(payload)}`;
    const selfSigned = `${signingInput}.${b64url(cryptoSign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' }))}`;
    const [, , sig] = good.access_token.split('.');
    const tampered = `${enc(header)}.${enc({ ...payload, sub: 'someone-else' })}.${sig}`;
    const hs256 = (() => {
      const h = enc({ alg: 'HS256', typ: 'JWT' });
      return `${h}.${enc(payload)}.${b64url(Buffer.alloc(32))}`;
    })();
    for (const [what, tok] of [
      ['garbage', 'garbage'],
      ['alg none', none],
      ['self-signed ES256', selfSigned],
      ['tampered payload', tampered],
      ['HS256', hs256],
    ]) {
      const p = await assertInvalidToken({ authorization: `Bearer ${tok}` }, what);
      assert.equal(p.error, 'invalid_token', what);
    }
    await assertInvalidToken({ authorization: 'foo' }, 'Authorization: foo');
  });

  test('a token for another audience (issued via another host name) → 401 invalid_token', async () => {
    const view = viewAt(host, host.baseUrl.replace('127.0.0.1', 'localhost'));
    const { tokens } = await obtainTokens(view, cookie);
    assert.equal(jwtParts(tokens.access_token).payload.aud, view.mcpUrl);
    const ok = await mcpRequest(view.mcpUrl, { token: tokens.access_token, body: init(), protocolVersion: null });
    assert.equal(ok.status, 200, 'valid at its own audience');
    const p = await assertInvalidToken({ authorization: `Bearer ${tokens.access_token}` }, 'other audience');
    assert.equal(p.error, 'invalid_token');
  });

  test('an expired token → 401 invalid_token', async () => {
    const { tokens } = await obtainTokens(host, cookie);
    const { payload } = jwtParts(tokens.access_token);
    await host.advanceClock((payload.exp - payload.iat + 5) * 1000);
    const p = await assertInvalidToken({ authorization: `Bearer ${tokens.access_token}` }, 'expired');
    assert.equal(p.error, 'invalid_token');
  });

  test("Scrypted's own credentials (login cookie, Scrypted bearer tokens) are NOT accepted", async () => {
    const loginR = await fetch(`${host.baseUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: host.username, password: host.password }),
    });
    const lj = await loginR.json();
    const adminToken = (await host.state()).env.SCRYPTED_ADMIN_TOKEN;
    const userToken = (await host.state()).users.find((u) => u.username === host.username).token;
    const creds = [
      ['login cookie', { cookie }],
      ['Scrypted /login authorization', { authorization: lj.authorization }],
      ['Scrypted user token', { authorization: `Bearer ${userToken}` }],
      ['SCRYPTED_ADMIN_TOKEN', { authorization: `Bearer ${adminToken}` }],
      ['admin token + cookie', { authorization: `Bearer ${adminToken}`, cookie }],
    ];
    // Precondition: the host itself takes each of them as the admin (its private endpoint
    // route lets the request through), so the plugin sees username=admin...
    const privateRoot = `${host.baseUrl}/endpoint/scrypted-mcp/`;
    assert.equal((await fetch(privateRoot)).status, 401, 'the private route needs a login');
    for (const [what, headers] of creds) {
      const r = await fetch(privateRoot, { headers });
      assert.notEqual(r.status, 401, `${what}: the host authenticates it`);
    }
    // ...and still the MCP endpoint wants its own token.
    for (const [what, headers] of creds) await assertInvalidToken(headers, what);
    const q = await fetch(`${host.mcpUrl}?scryptedToken=${encodeURIComponent(adminToken)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(init()),
    });
    assert.equal(q.status, 401, '?scryptedToken= is not accepted either');
  });

  test('a token in the query string is ignored', async () => {
    const r = await fetch(`${host.mcpUrl}?access_token=${good.access_token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(init()),
    });
    assert.equal(r.status, 401);
  });

  test('a valid token works (control)', async () => {
    const { tokens } = await obtainTokens(host, cookie);
    const { sessionId } = await initialize(host.mcpUrl, tokens.access_token);
    const r = await mcpRequest(host.mcpUrl, { token: tokens.access_token, sessionId, body: req('ping') });
    assert.equal(r.status, 200);
    assert.deepEqual(r.messages[0].result, {});
  });
});
