// Login, raw OAuth requests, and a complete headless OAuth flow, both by hand (fetch) and
// through @modelcontextprotocol/sdk's client with an in-memory OAuthClientProvider.
import { createHash, randomBytes } from 'node:crypto';
import { startDevHost } from './devhost.mjs';

export const LOGIN_COOKIE = 'login_user_token_insecure';
export const LOOPBACK_REDIRECT = 'http://127.0.0.1:9/callback'; // never served

export const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

/** A fresh dev host and its admin's login cookie: `{ host, cookie }`. */
export async function startLoggedIn(opts) {
  const host = await startDevHost(opts);
  return { host, cookie: await login(host.baseUrl, host.username, host.password) };
}

/** A fresh dev host, its admin's login cookie and an access token from a real OAuth flow. */
export async function startWithToken(opts) {
  const { host, cookie } = await startLoggedIn(opts);
  return { host, cookie, token: (await obtainTokens(host, cookie)).tokens.access_token };
}

/** Logs into the dev host as Scrypted does; returns the Cookie header value. */
export async function login(baseUrl, username, password) {
  const r = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
    redirect: 'manual',
  });
  const cookies = r.headers.getSetCookie();
  const mine = cookies.map((c) => c.split(';')[0]).find((c) => c.startsWith(`${LOGIN_COOKIE}=`));
  if (!mine) {
    throw new Error(`POST /login as ${username} set no ${LOGIN_COOKIE} cookie (status ${r.status}: ${await r.text()})`);
  }
  return mine;
}

/** The password of the dev host's non-admin demo user. */
export async function viewerCredentials(host) {
  if (host.info.viewer?.password) return { username: host.info.viewer.username ?? 'viewer', password: host.info.viewer.password };
  if (host.info.viewerPassword) return { username: 'viewer', password: host.info.viewerPassword };
  const s = await host.state();
  const users = s?.users ?? [];
  const list = Array.isArray(users) ? users : Object.entries(users).map(([username, u]) => ({ username, ...u }));
  const v = list.find((u) => u.username === 'viewer' || (u.aclId && u.username !== 'admin'));
  if (!v?.password) throw new Error(`no viewer password found in the dev host state: ${JSON.stringify(users).slice(0, 300)}`);
  return { username: v.username, password: v.password };
}

async function asJson(r) {
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  return { status: r.status, headers: r.headers, text, json };
}

export async function register(host, body, extraHeaders = {}) {
  const r = await fetch(host.url('/register'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...extraHeaders },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return asJson(r);
}

export async function registerPublicClient(host, redirectUris = [LOOPBACK_REDIRECT], name = 'node-test') {
  const r = await register(host, {
    client_name: name,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  });
  if (r.status !== 201) throw new Error(`register → ${r.status}: ${r.text}`);
  return r.json;
}

/**
 * What the user does in the browser: opens the authorization URL logged in to Scrypted
 * (`cookie`) and approves, on the consent page when one is shown (ticking the scopes of
 * `grant`, default every scope offered). Returns the redirect back to the client as a URL.
 * The one place the Node suites sign in; tests/clients/python/signin.py and
 * tests/clients/rmcp do the same.
 */
export async function approve(authorizationUrl, cookie, { grant } = {}) {
  const r = await approveConsent(authorizationUrl, cookie, { grant });
  if (r.status !== 302 || !r.location) {
    throw new Error(`authorize answered ${r.status}, expected a 302: ${r.text.slice(0, 300)}`);
  }
  return new URL(r.location);
}

const unescape = (v) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/**
 * The consent page's form: its action, every field as sent when all is ticked (`fields`),
 * the hidden ones (CSRF token included) as [name, value] pairs, the scope checkboxes'
 * names, and the submit buttons ([name, value]).
 */
export function consentForm(html) {
  const form = html.match(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i);
  if (!form) throw new Error(`the consent page has no form: ${html.slice(0, 300)}`);
  const fields = {};
  const hidden = [];
  const boxes = [];
  for (const m of form[2].matchAll(/<input[^>]*>/gi)) {
    const name = m[0].match(/name="([^"]*)"/)?.[1];
    if (!name) continue;
    const value = unescape(m[0].match(/value="([^"]*)"/)?.[1] ?? '');
    fields[name] = value;
    if (/type="checkbox"/i.test(m[0])) boxes.push(name);
    else hidden.push([name, value]);
  }
  const buttons = [...form[2].matchAll(/<button[^>]*name="([^"]*)"[^>]*value="([^"]*)"/gi)].map((m) => [m[1], m[2]]);
  return { action: unescape(form[1]), fields, hidden, boxes, buttons };
}

/**
 * The consent step as the admin's browser does it: GET the authorization URL with the
 * admin's cookie; when the consent page answers, POST its form from its own origin with the
 * checkboxes of `grant` ticked (scope names; default every scope the page offers) and
 * `decision` (approve); `headers` go with both requests (a proxy's forwarded headers, the
 * Origin the browser would send there). Returns `{status, location, text, consented}`: the final answer,
 * and whether a page was shown (a remembered approval answers at once).
 */
export async function approveConsent(authorizationUrl, cookie, { grant, decision = 'approve', headers = {} } = {}) {
  const url = new URL(authorizationUrl);
  const first = await fetch(url, { redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...headers } });
  const text = await first.text();
  if (first.status !== 200 || !text.includes('name="csrf"')) {
    return { status: first.status, location: first.headers.get('location'), text, consented: false };
  }
  const { hidden, boxes, action } = consentForm(text);
  const form = new URLSearchParams(hidden);
  for (const box of boxes) {
    const scope = `scrypted:${box.replace(/^grant_/, '')}`;
    if (!grant || grant.includes(scope)) form.append(box, 'on');
  }
  form.append('decision', decision);
  const r = await fetch(new URL(action, url), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: url.origin, ...headers },
    body: form.toString(),
  });
  return { status: r.status, location: r.headers.get('location'), text: await r.text(), consented: true };
}

/** The /authorize URL with `params` (undefined ones left out). */
export function authorizeUrl(host, params) {
  const u = new URL(host.url('/authorize'));
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u;
}

/** GET /authorize without following redirects. */
export async function authorize(host, params, cookie) {
  const u = authorizeUrl(host, params);
  const r = await fetch(u, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const out = await asJson(r);
  out.location = r.headers.get('location');
  return out;
}

/** POST /token as a form (default) or as JSON (`{json: true}`, the form Scrypted delivers). */
export async function token(host, params, { json = false } = {}) {
  const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
  const r = await fetch(host.url('/token'), {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
    body: json ? JSON.stringify(clean) : new URLSearchParams(clean).toString(),
  });
  return asJson(r);
}

/**
 * register → authorize (with the admin cookie, approving the consent page for `grant`,
 * default everything asked) → code. Returns everything needed to exchange the code.
 */
export async function getCode(host, cookie, { client, redirectUri = LOOPBACK_REDIRECT, resource, scope, grant } = {}) {
  client ??= await registerPublicClient(host, [redirectUri]);
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(12));
  const u = authorizeUrl(host, {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    resource: resource ?? host.mcpUrl,
    scope,
  });
  const loc = await approve(u, cookie, { grant });
  if (loc.searchParams.get('state') !== state) throw new Error(`state not echoed: ${loc}`);
  const code = loc.searchParams.get('code');
  if (!code) throw new Error(`no code in ${loc}`);
  return { client, code, verifier, redirectUri, location: loc };
}

/** The whole flow by hand: returns {client, tokens:{access_token, refresh_token, ...}}. */
export async function obtainTokens(host, cookie, opts = {}) {
  const c = await getCode(host, cookie, opts);
  const t = await token(host, {
    grant_type: 'authorization_code',
    code: c.code,
    redirect_uri: c.redirectUri,
    code_verifier: c.verifier,
    client_id: c.client.client_id,
    resource: opts.resource ?? host.mcpUrl,
  });
  if (t.status !== 200) throw new Error(`token → ${t.status}: ${t.text}`);
  return { client: c.client, tokens: t.json };
}

/** In-memory OAuthClientProvider for the SDK client (recipe docs/reference/mcp-protocol.md §3.3). */
export class MemoryOAuthProvider {
  /** `grant`: the scopes the admin ticks on the consent page (default: all it offers). */
  constructor({ cookie, redirectUrl = LOOPBACK_REDIRECT, clientName = 'sdk-e2e', clientMetadataUrl, grant }) {
    this.cookie = cookie;
    this.grant = grant;
    /** With it, the SDK uses Client ID Metadata Documents when the AS advertises them. */
    this.clientMetadataUrl = clientMetadataUrl;
    this._redirectUrl = redirectUrl;
    this.clientName = clientName;
    this._client = undefined;
    this._tokens = undefined;
    this._verifier = undefined;
    this._state = undefined;
    /** every saveTokens() call, in order */
    this.savedTokens = [];
    /** authorization codes received via redirectToAuthorization */
    this.codes = [];
    this.authorizationUrls = [];
  }
  get redirectUrl() {
    return this._redirectUrl;
  }
  get clientMetadata() {
    return {
      client_name: this.clientName,
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    this._state = b64url(randomBytes(12));
    return this._state;
  }
  clientInformation() {
    return this._client;
  }
  saveClientInformation(info) {
    this._client = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(t) {
    this._tokens = t;
    this.savedTokens.push(t);
  }
  saveCodeVerifier(v) {
    this._verifier = v;
  }
  codeVerifier() {
    return this._verifier;
  }
  async redirectToAuthorization(url) {
    this.authorizationUrls.push(new URL(url));
    const loc = await approve(url, this.cookie, { grant: this.grant });
    if (loc.searchParams.get('state') !== this._state) throw new Error(`state mismatch in ${loc}`);
    if (loc.searchParams.get('error')) throw new Error(`authorize error: ${loc}`);
    this.codes.push(loc.searchParams.get('code'));
  }
}

/**
 * Connects an SDK Client through the full OAuth flow. Returns {client, transport, provider}.
 * `fetch`: the transports' fetch, when not Node's own.
 */
export async function connectSdkClient(mcpUrl, cookie, { capabilities = {}, provider, name = 'node-e2e', onClient, fetch } = {}) {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const { UnauthorizedError } = await import('@modelcontextprotocol/sdk/client/auth.js');
  provider ??= new MemoryOAuthProvider({ cookie });
  const url = new URL(mcpUrl);
  const first = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch });
  const c1 = new Client({ name, version: '1.0.0' }, { capabilities });
  onClient?.(c1);
  try {
    await c1.connect(first);
    return { client: c1, transport: first, provider };
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  const code = provider.codes.at(-1);
  if (!code) throw new Error('no authorization code captured');
  await first.finishAuth(code);
  await first.close().catch(() => {});
  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch });
  const client = new Client({ name, version: '1.0.0' }, { capabilities });
  onClient?.(client);
  await client.connect(transport);
  return { client, transport, provider };
}

/** Decodes a JWT without verifying it. */
export function jwtParts(jwt) {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
    signature: s,
  };
}
