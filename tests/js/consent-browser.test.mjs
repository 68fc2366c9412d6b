// The consent page in a real browser (issue 9; issue 8 items 3, 16): Debian's Chromium
// (scripts/setup.sh installs it), driven headless by puppeteer-core (an npm
// devDependency; it downloads no browser). A loopback client's first visit shows the
// page; unticking admin and control yields a read-only token; the second visit is silent;
// a page of another 127.0.0.1 port that auto-submits the form (even with a valid CSRF
// token) approves nothing. Also, with the browser at hand: a browser MCP client on another
// loopback origin (as MCP Inspector's page is) gets through the CORS preflight of a
// 2026-07-28 call, which carries Mcp-Method and Mcp-Name.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLoggedIn, registerPublicClient, pkce, token, consentForm, jwtParts, obtainTokens } from './helpers/oauth.mjs';
import { modernInit } from './helpers/mcp.mjs';

const CHROMIUM = '/usr/bin/chromium';

let host;
let cookie;
let browser;
let profile;
const servers = [];

/** A server on 127.0.0.1 answering every request with `handler`; its base URL. */
async function serve(handler) {
  const s = http.createServer(handler);
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return `http://127.0.0.1:${s.address().port}`;
}

before(async () => {
  ({ host, cookie } = await startLoggedIn());
  const puppeteer = (await import('puppeteer-core')).default;
  profile = mkdtempSync(path.join(os.tmpdir(), 'consent-browser-'));
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
    ],
  });
  // The admin is logged into Scrypted in this browser.
  const eq = cookie.indexOf('=');
  await browser.setCookie({ name: cookie.slice(0, eq), value: cookie.slice(eq + 1), url: host.baseUrl });
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const s of servers) s.closeAllConnections?.(), s.close();
  await host?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** The app's side: a loopback callback server, a registered client, an authorization URL. */
async function app(name) {
  const callback = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('callback reached');
  });
  const client = await registerPublicClient(host, [`${callback}/callback`], name);
  const authorizeUrl = (scope) => {
    const { verifier, challenge } = pkce();
    const u = new URL(host.url('/authorize'));
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: `${callback}/callback`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'browser-state',
      resource: host.mcpUrl,
      scope,
    })) u.searchParams.set(k, v);
    return { url: u.toString(), verifier };
  };
  const exchange = async (callbackUrl, verifier) => {
    const code = new URL(callbackUrl).searchParams.get('code');
    assert.ok(code, `a code in ${callbackUrl}`);
    const r = await token(host, { grant_type: 'authorization_code', code, redirect_uri: `${callback}/callback`, code_verifier: verifier, client_id: client.client_id, resource: host.mcpUrl });
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  return { client, callback, authorizeUrl, exchange };
}

const ALL = 'scrypted:read scrypted:control scrypted:admin';

async function storedCodes() {
  return Object.keys((await host.state()).pluginStorage).filter((k) => k.startsWith('oauth.code.')).length;
}

describe('the consent page in headless Chromium', () => {
  test('first visit shows the page; unticking admin and control gives a read-only token; the second visit is silent', { timeout: 60_000 }, async () => {
    const a = await app('Browser App');
    const page = await browser.newPage();
    try {
      const first = a.authorizeUrl(ALL);
      const response = await page.goto(first.url);
      assert.equal(response.status(), 200);
      assert.equal(await page.title(), 'Connect an app to Scrypted?');
      const text = await page.$eval('body', (b) => b.innerText);
      assert.match(text, /Browser App/);
      assert.match(text, /self-declared, not verified/);
      assert.equal(new URL(page.url()).origin, new URL(host.baseUrl).origin, 'still on the server, not redirected');
      assert.deepEqual(await page.$$eval('input[type=checkbox]', (l) => l.map((b) => [b.name, b.checked])), [
        ['grant_read', true],
        ['grant_control', true],
        ['grant_admin', true],
      ]);
      await page.click('input[name=grant_admin]');
      await page.click('input[name=grant_control]');
      await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
      assert.ok(page.url().startsWith(`${a.callback}/callback?`), `${page.url()}: ${await page.$eval('body', (b) => b.innerText)}`);
      const tokens = await a.exchange(page.url(), first.verifier);
      assert.equal(tokens.scope, 'scrypted:read');
      assert.equal(jwtParts(tokens.access_token).payload.scope, 'scrypted:read');

      // Second visit for what was granted: no page, straight back to the app.
      const second = a.authorizeUrl('scrypted:read');
      await page.goto(second.url);
      assert.ok(page.url().startsWith(`${a.callback}/callback?`), `silent: ${page.url()}`);
      assert.equal((await a.exchange(page.url(), second.verifier)).scope, 'scrypted:read');
    } finally {
      await page.close();
    }
  });

  test('a page of another origin that auto-submits the form (with a valid CSRF token) approves nothing', { timeout: 60_000 }, async () => {
    const a = await app('Victim App');
    const { url } = a.authorizeUrl(ALL);
    // The worst case: the attacker somehow holds a real, unspent form of this admin.
    const leaked = await (await fetch(url, { headers: { cookie } })).text();
    const { hidden, boxes, action } = consentForm(leaked);
    const inputs = [...hidden, ...boxes.map((b) => [b, 'on']), ['decision', 'approve']]
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">`)
      .join('');
    const attacker = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>cute cats</title><form id=f method=post action="${new URL(action, host.baseUrl)}">${inputs}</form><script>document.getElementById('f').submit()</script>`);
    });
    const codesBefore = await storedCodes();
    const page = await browser.newPage();
    try {
      await page.goto(attacker);
      // The page submits itself at once; wait until the browser is on the server's answer.
      for (let i = 0; i < 100 && !page.url().startsWith(host.baseUrl); i++) await new Promise((r) => setTimeout(r, 100));
      await page.waitForSelector('h1');
      assert.ok(page.url().startsWith(host.baseUrl), `the browser stays on the server: ${page.url()}`);
      assert.match(await page.$eval('body', (b) => b.innerText), /another site/);
      assert.equal(await storedCodes(), codesBefore, 'no code issued');
      // Nothing remembered: the app's next visit still shows the page.
      await page.goto(a.authorizeUrl(ALL).url);
      assert.equal(await page.title(), 'Connect an app to Scrypted?');
    } finally {
      await page.close();
    }
  });
});

describe('a browser MCP client in headless Chromium', () => {
  test('a 2026-07-28 call from another loopback origin passes the CORS preflight and is answered', { timeout: 60_000 }, async () => {
    const { tokens: { access_token: accessToken } } = await obtainTokens(host, cookie);
    const client = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>browser client</title>');
    });
    const page = await browser.newPage();
    try {
      // localhost, not 127.0.0.1: another origin than the endpoint's, so the browser preflights.
      await page.goto(client.replace('127.0.0.1', 'localhost'));
      const init = modernInit(accessToken, 'tools/call', { name: 'get_server_info', arguments: {} });
      const answer = await page.evaluate(async (url, init) => {
        try {
          const r = await fetch(url, init);
          return { status: r.status, body: await r.text() };
        } catch (e) {
          return { error: String(e) };
        }
      }, host.mcpUrl, init);
      assert.equal(answer.error, undefined, `the browser refused the call: ${answer.error}`);
      assert.equal(answer.status, 200, answer.body);
      const message = JSON.parse(answer.body);
      assert.equal(message.result.isError, false, answer.body);
      assert.ok(message.result.structuredContent.version, answer.body);
    } finally {
      await page.close();
    }
  });
});
