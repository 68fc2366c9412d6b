// Client ID Metadata Documents end to end (issue 9; MCP 2026-07-28 client-registration): the
// documents live on a local HTTPS server whose self-signed certificate only the dev host of
// this test trusts (NODE_EXTRA_CA_CERTS for that one process; the product never trusts it),
// and the plugin fetches them through the real host.js with Node's own https client. Loopback
// is refused in product mode, so the allowed flows go through the admin's allowance
// ("cimd_private_hosts", set through the Settings path); the hostile cases are each refused
// with invalid_client and leave the plugin storage unchanged.
//
// Cost: one openssl call (~50 ms) and two dev hosts; the slow-server case waits out the
// plugin's 5 s budget.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLoggedIn, authorize, token, pkce, MemoryOAuthProvider, connectSdkClient, LOOPBACK_REDIRECT, consentForm } from './helpers/oauth.mjs';
import { initialize, mcpRequest, req } from './helpers/mcp.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'cimd-test-'));
const CERT = path.join(dir, 'cert.pem');
const KEY = path.join(dir, 'key.pem');
// A certificate for 127.0.0.1 and localhost, valid for a day, made for this run only.
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
  '-keyout', KEY, '-out', CERT, '-days', '1', '-subj', '/CN=cimd-test',
  '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
], { stdio: 'ignore' });

const APP_REDIRECT = 'https://app.test.example/callback'; // never served: the code is read from Location
let server;
let origin; // https://127.0.0.1:<port>
/** path → (req, res) handler of the document server. */
const routes = new Map();
let fetches = [];

function doc(pathname, overrides = {}) {
  return {
    client_id: `${origin}${pathname}`,
    client_name: 'CIMD <Test> App',
    redirect_uris: [APP_REDIRECT, LOOPBACK_REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...overrides,
  };
}

const json = (body, headers = {}) => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

before(async () => {
  server = createServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, (req, res) => {
    fetches.push(req.url);
    const route = routes.get(req.url);
    if (route) return route(req, res);
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${server.address().port}`;
  routes.set('/client.json', json(doc('/client.json'), { 'cache-control': 'max-age=600' }));
  routes.set('/sdk.json', json(doc('/sdk.json')));
  routes.set('/mismatch.json', json(doc('/mismatch.json', { client_id: `${origin}/client.json` })));
  routes.set('/large.json', json({ ...doc('/large.json'), padding: 'x'.repeat(6000) }));
  routes.set('/notjson.json', json('<html>not a document</html>'));
  routes.set('/redirect.json', (_req, res) => res.writeHead(302, { location: '/client.json' }).end());
  routes.set('/slow.json', () => {}); // never answers
});

after(async () => {
  server?.closeAllConnections?.();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** The plugin's storage keys, sorted: what "nothing stored" compares. */
async function storedKeys(host) {
  return JSON.stringify(Object.keys(await host.pluginStorage()).sort());
}

/** An admin's authorization request for `clientId` (code flow, PKCE, this MCP URL). */
async function ask(host, cookie, clientId, redirectUri = LOOPBACK_REDIRECT) {
  const { verifier, challenge } = pkce();
  const a = await authorize(host, {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'cimd-state',
    resource: host.mcpUrl,
  }, cookie);
  return { ...a, verifier };
}

/** The hidden fields of the consent form. */
function formFields(html) {
  const fields = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[m[1]] = m[2].replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  }
  return fields;
}

describe('CIMD with the test certificate trusted and the test server allowed', () => {
  let host;
  let cookie;
  before(async () => {
    ({ host, cookie } = await startLoggedIn({ env: { NODE_EXTRA_CA_CERTS: CERT } }));
  });
  after(() => host?.stop());

  test('product mode: a loopback document host is refused before anything is fetched', async () => {
    const keys = await storedKeys(host);
    fetches = [];
    for (const [clientId, reason] of [
      [`${origin}/client.json`, /resolves to 127\.0\.0\.1, a loopback address/],
      [`https://localhost:${server.address().port}/client.json`, /resolves to \S+, a loopback address/],
    ]) {
      const a = await ask(host, cookie, clientId);
      assert.equal(a.status, 400, a.text);
      assert.equal(a.location, null);
      assert.match(a.text, /invalid_client/);
      assert.match(a.text, reason);
    }
    assert.deepEqual(fetches, [], 'the server was never contacted');
    assert.equal(await storedKeys(host), keys, 'nothing stored');
  });

  test('the allowance is set through the Settings path and checked there', async () => {
    const bad = await host.putSetting('cimd_private_hosts', '127.0.0.1');
    assert.notEqual(bad.status, 200);
    assert.match(JSON.stringify(bad), /host:port/);
    const ok = await host.putSetting('cimd_private_hosts', `127.0.0.1:${server.address().port}`);
    assert.equal(ok.status, 200, JSON.stringify(ok));
    const shown = (await host.settings()).find((s) => s.key === 'cimd_private_hosts');
    assert.equal(shown.value, `127.0.0.1:${server.address().port}`);
  });

  test('authorize → consent naming the verified host → token → tools/list; no registration stored', async () => {
    const clientId = `${origin}/client.json`;
    const meta = await (await fetch(host.url('/.well-known/oauth-authorization-server'))).json();
    assert.equal(meta.client_id_metadata_document_supported, true);
    fetches = [];
    const page = await ask(host, cookie, clientId, APP_REDIRECT);
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /published by <b>127\.0\.0\.1<\/b>/);
    assert.ok(page.text.includes(`<code>${clientId}</code>`), 'the document URL is shown');
    assert.ok(page.text.includes('calls itself \u201cCIMD &lt;Test&gt; App\u201d'), 'the name is a claim, escaped');
    // Every scope the page offers ticked (consentForm: the shared reading of the page).
    const ticked = Object.fromEntries(consentForm(page.text).boxes.map((b) => [b, 'on']));
    const form = new URLSearchParams({ ...formFields(page.text), ...ticked, decision: 'approve' });
    const approved = await fetch(host.url('/authorize'), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    assert.equal(approved.status, 302, await approved.text());
    const code = new URL(approved.headers.get('location')).searchParams.get('code');
    assert.ok(code);
    assert.deepEqual(fetches, ['/client.json'], 'fetched once; the consent POST used the cache');

    const t = await token(host, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: APP_REDIRECT,
      code_verifier: page.verifier,
      client_id: clientId,
      resource: host.mcpUrl,
    });
    assert.equal(t.status, 200, t.text);
    const { sessionId, protocolVersion } = await initialize(host.mcpUrl, t.json.access_token);
    const list = await mcpRequest(host.mcpUrl, { token: t.json.access_token, sessionId, protocolVersion, body: req('tools/list') });
    assert.equal(list.status, 200);
    assert.ok(list.messages[0].result.tools.length > 10, 'the tools are listed');
    const storage = await host.pluginStorage();
    assert.ok(!Object.keys(storage).some((k) => k.startsWith('oauth.client.')), 'no registration');

    const refreshed = await token(host, { grant_type: 'refresh_token', refresh_token: t.json.refresh_token, client_id: clientId });
    assert.equal(refreshed.status, 200, refreshed.text);
  });

  test('the SDK client uses its clientMetadataUrl as client_id (no DCR) and lists the tools', async () => {
    const provider = new MemoryOAuthProvider({ cookie, clientMetadataUrl: `${origin}/sdk.json` });
    const { client } = await connectSdkClient(host.mcpUrl, cookie, { provider, name: 'cimd-sdk' });
    try {
      assert.equal(provider.authorizationUrls[0].searchParams.get('client_id'), `${origin}/sdk.json`);
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'get_server_info'));
    } finally {
      await client.close();
    }
  });

  test('hostile documents and client_ids: invalid_client with the reason, nothing stored', { timeout: 30_000 }, async () => {
    const keys = await storedKeys(host);
    const cases = [
      [`${origin}/mismatch.json`, /client_id \S+\/client\.json is not the URL it was fetched from/],
      [`${origin}/large.json`, /larger than 5120 bytes/],
      [`${origin}/notjson.json`, /did not answer a JSON object/],
      [`${origin}/redirect.json`, /answered a redirect \(HTTP 302\)/],
      [`${origin}/slow.json`, /no complete answer within \d+ ms/],
      [`http://127.0.0.1:${server.address().port}/client.json`, /is not an https URL/],
      [origin, /has no path/],
    ];
    for (const [clientId, reason] of cases) {
      const started = Date.now();
      const a = await ask(host, cookie, clientId);
      assert.equal(a.status, 400, `${clientId}: ${a.text}`);
      assert.equal(a.location, null, clientId);
      assert.match(a.text, /invalid_client/, clientId);
      assert.match(a.text, reason, clientId);
      assert.ok(Date.now() - started < 7000, `${clientId}: answered within the 5 s budget`);
    }
    // A good document, but the request's redirect is not one it lists.
    const a = await ask(host, cookie, `${origin}/client.json`, 'http://127.0.0.1:9/elsewhere');
    assert.equal(a.status, 400);
    assert.match(a.text, /not one this client registered/);
    assert.equal(await storedKeys(host), keys, 'nothing stored');
  });
});

describe('without the test configuration the test certificate is not trusted', () => {
  let host;
  let cookie;
  before(async () => {
    ({ host, cookie } = await startLoggedIn());
  });
  after(() => host?.stop());

  test('the same allowed document fails on its certificate', async () => {
    await host.putSetting('cimd_private_hosts', `127.0.0.1:${server.address().port}`);
    const a = await ask(host, cookie, `${origin}/client.json`);
    assert.equal(a.status, 400, a.text);
    assert.match(a.text, /invalid_client/);
    assert.match(a.text, /certificate/i);
  });
});
