// A real OAuth flow against the dev host, as a client does it: POST /login (cookie) →
// /register → /authorize (PKCE S256, loopback redirect) → /token. Used by the bench.
import { createHash, randomBytes } from 'node:crypto';

const b64url = (b) => Buffer.from(b).toString('base64url');

export async function loginCookie(baseUrl, username, password) {
  const r = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const c = r.headers.getSetCookie().map((s) => s.split(';')[0]).find((s) => s.startsWith('login_user_token_insecure='));
  if (!c) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  return c;
}

/** Returns {accessToken, refreshToken, clientId, tokenResponse}. */
export async function oauthToken({ baseUrl, mcpUrl, username, password }) {
  const publicBase = mcpUrl.replace(/\/mcp$/, '');
  const cookie = await loginCookie(baseUrl, username, password);
  const redirectUri = 'http://127.0.0.1:9/callback';
  const reg = await fetch(`${publicBase}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'scrypted-mcp bench',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const client = await reg.json();
  if (reg.status !== 201) throw new Error(`register → ${reg.status}: ${JSON.stringify(client)}`);
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const state = b64url(randomBytes(8));
  const u = new URL(`${publicBase}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: client.client_id, redirect_uri: redirectUri, code_challenge: challenge,
    code_challenge_method: 'S256', state, resource: mcpUrl, scope: 'scrypted:admin',
  })) u.searchParams.set(k, v);
  const az = await fetch(u, { redirect: 'manual', headers: { cookie } });
  const loc = az.headers.get('location');
  if (!loc) throw new Error(`authorize → ${az.status} without redirect: ${(await az.text()).slice(0, 300)}`);
  const back = new URL(loc);
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state) throw new Error(`authorize redirect lacks code/state: ${loc}`);
  const tok = await fetch(`${publicBase}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: client.client_id, resource: mcpUrl,
    }).toString(),
  });
  const t = await tok.json();
  if (tok.status !== 200) throw new Error(`token → ${tok.status}: ${JSON.stringify(t)}`);
  return { accessToken: t.access_token, refreshToken: t.refresh_token, clientId: client.client_id, tokenResponse: t };
}
