// The dev host: a standalone Scrypted-like HTTP server on 127.0.0.1 that loads the built
// plugin zip the way Scrypted does and behaves like Scrypted wherever the plugin can tell
// the difference (docs/reference/scrypted-host.md §6, §7, §9):
//
//  - /endpoint/<pkg>/public[/*]  anyone; `username`/`aclId` filled when credentials came along
//    /endpoint/<pkg>[/*]         401 "Not Authorized" without a login, plugin not called
//    (also /endpoint/@owner/pkg/... and /endpoint/<device id>/...; other plugins → 404)
//  - the auth middleware of §6.3/§6.6: signed cookie `login_user_token_insecure` (http) or
//    `login_user_token` (when X-Forwarded-Proto says https: 'trust proxy' = loopback),
//    `Authorization: Bearer <user token | /login authorization>`, `?scryptedToken=`
//  - GET /login (JSON, or an HTML form for browsers), POST /login {username, password}
//    (JSON or form) → signed cookie; wrong password → 200 {"error":"Incorrect password."};
//    GET /logout
//  - body parsing of §6.2 (JSON re-serialized; >100 KB → 413 HTML; invalid → 400 HTML; form →
//    JSON string of the fields; text/plain as is; other application/* → Buffer-JSON; no
//    content-type → undefined) and Scrypted's own CORS headers on endpoint responses
//  - exactly one send: onRequest resolving without send*, or throwing → 500 "Internal Plugin Error"
//  - the plugin worker's process (plugin-remote-worker.ts): an uncaught exception or unhandled
//    rejection is logged and the process lives on; deviceManager.requestRestart reloads the
//    plugin 15 s after the last request (plugin-host-api.ts; `restartDelayMs` sets the wait)
//
// Loopback-only inspection and control routes for tests and demos: control.mjs.
//
// In-process: const host = await startDevHost({port: 0, zip}); host.baseUrl ...; await host.close().
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN, PLUGIN_ID, VIEWER } from './demo.mjs';
import {
  bodyOrErrorPage, expressErrorPage, htmlEscape, isHttps, loginCookieName, mediaType, parseCookies, sendHtml,
  sendJson,
} from './http.mjs';
import { control } from './control.mjs';
import { loadPluginZip } from './loader.mjs';
import { Runtime } from './runtime.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_ZIP = path.join(ROOT, 'dist/plugin.zip');
export const DEFAULT_PORT = 11080;
const COOKIE_MAX_AGE_MS = 86_400_000;

// ------------------------------------------------------------------ the dev host

/** The cookie-signing secret, kept across dev host restarts like Scrypted's (§6.3: cookies survive restarts). */
function cookieSecret() {
  const file = path.join(ROOT, '.cache/devhost-cookie-secret');
  try {
    const s = fs.readFileSync(file);
    if (s.length >= 32) return s;
  } catch { /* first run */ }
  const s = randomBytes(32);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, s, { mode: 0o600 });
  } catch { /* read-only tree: per-process secret */ }
  return s;
}


class DevHostServer {
  constructor({
    port = DEFAULT_PORT, host = '127.0.0.1', zip = DEFAULT_ZIP, chdir = false, quiet = false, log, restartDelayMs = 15_000,
  } = {}) {
    this.requestedPort = port;
    this.hostname = host;
    this.zip = zip;
    this.chdir = chdir;
    this.quiet = quiet;
    this.logFn = log || ((...a) => { if (!this.quiet) console.error('[devhost]', ...a); });
    this.clockOffsetMs = 0;
    this.clock = { now: () => Date.now() + this.clockOffsetMs };
    this.runtime = new Runtime({ port, log: (...a) => this.logFn(...a), clock: this.clock });
    this.restartDelayMs = restartDelayMs;
    this.runtime.onRestartRequested = () => this.restartDebounced();
    this.cookieSecret = cookieSecret();
    this.loginTokens = new Map(); // /login "authorization" token → username (dies with the process)
    this.sockets = new Set();
    this.plugin = null;
    /** HTTP answers the plugin is still writing (cut when its worker dies). */
    this.pluginAnswers = new Set();
    /** The plugin volume (§5): the plugin's own files, kept across reloads like Scrypted's. */
    this.volume = fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-volume-'));
  }

  get port() { return this.server?.address()?.port ?? this.requestedPort; }
  get baseUrl() { return `http://127.0.0.1:${this.port}`; }
  get mcpUrl() { return `${this.baseUrl}/endpoint/${PLUGIN_ID}/public/mcp`; }
  get loginUrl() { return `${this.baseUrl}/login`; }

  info() {
    return {
      pid: process.pid,
      port: this.port,
      baseUrl: this.baseUrl,
      mcpUrl: this.mcpUrl,
      loginUrl: this.loginUrl,
      username: ADMIN.username,
      pluginVolume: this.volume,
      password: ADMIN.password,
      viewer: { username: VIEWER.username, password: VIEWER.password, aclId: VIEWER.aclId },
      zip: this.zip,
    };
  }

  /** A Date whose now() (and argless constructor) follow the dev clock: injected as `Date`. */
  makeDate() {
    const clock = this.clock;
    const RealDate = Date;
    class DevDate extends RealDate {
      constructor(...args) {
        if (args.length === 0) super(clock.now());
        else super(...args);
      }
      static now() { return clock.now(); }
    }
    return DevDate;
  }

  /** requestRestart's reload, at most one, `restartDelayMs` after the last request. */
  restartDebounced() {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.logFn('plugin restart was requested: reloading the plugin');
      this.reloadPlugin().catch((e) => this.logFn('plugin restart failed', e));
    }, this.restartDelayMs);
  }

  /** The worker's handlers (plugin-remote-worker.ts): logged, and the process lives on. */
  installWorkerHandlers() {
    if (this.workerHandlers) return;
    this.workerHandlers = true;
    process.on('uncaughtException', (e) => this.logFn('[plugin:error] uncaughtException', e));
    process.on('unhandledRejection', (e) => this.logFn('[plugin:error] unhandledRejection', e));
  }

  async loadPlugin() {
    const t0 = performance.now();
    this.installWorkerHandlers();
    // What the plugin adds to `process` goes with its worker on a reload.
    const watchers = new Set(process.listeners('uncaughtExceptionMonitor'));
    const params = this.runtime.pluginParams();
    const pluginConsole = {
      log: (...a) => this.logFn('[plugin]', ...a),
      info: (...a) => this.logFn('[plugin]', ...a),
      warn: (...a) => this.logFn('[plugin:warn]', ...a),
      error: (...a) => this.logFn('[plugin:error]', ...a),
      debug: (...a) => this.logFn('[plugin:debug]', ...a),
    };
    // Scrypted starts each plugin process with its volume in the environment (plugin-host.ts).
    process.env.SCRYPTED_PLUGIN_VOLUME = this.volume;
    const loaded = await loadPluginZip(this.zip, {
      chdir: this.chdir,
      params: { ...params, console: pluginConsole, Date: this.makeDate() },
      modules: { os: this.runtime.osModule(), 'node:os': this.runtime.osModule() },
    });
    if (this.plugin?.dir) fs.rmSync(this.plugin.dir, { recursive: true, force: true });
    for (const listener of this.plugin?.watchers ?? []) process.off('uncaughtExceptionMonitor', listener);
    loaded.watchers = process.listeners('uncaughtExceptionMonitor').filter((l) => !watchers.has(l));
    this.plugin = loaded;
    this.loadMs = performance.now() - t0;
    return loaded;
  }

  /**
   * A plugin reload (or a server restart, as our plugin sees it): the old worker dies with
   * its open answers and event listeners (only the plugin registers listeners here), then
   * the plugin is loaded afresh from the zip over the same storage.
   */
  async reloadPlugin() {
    for (const res of this.pluginAnswers) res.destroy();
    this.pluginAnswers.clear();
    this.runtime.events.system.clear();
    this.runtime.events.devices.clear();
    return this.loadPlugin();
  }

  async start() {
    if (!fs.existsSync(this.zip)) throw new Error(`plugin zip not found: ${this.zip} (run \`npm run build\`)`);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        this.logFn('request failed', e);
        if (!res.headersSent) expressErrorPage(res, 500, String(e?.stack || e));
        else res.destroy();
      });
    });
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.requestedPort, this.hostname, () => { this.server.off('error', reject); resolve(); });
    });
    this.runtime.listenAt(this.hostname, this.port);
    await this.loadPlugin();
    return this;
  }

  async close() {
    if (!this.server) return;
    clearTimeout(this.restartTimer);
    await new Promise((r) => {
      this.server.close(() => r());
      for (const s of this.sockets) s.destroy();
    });
    if (this.plugin?.dir) fs.rmSync(this.plugin.dir, { recursive: true, force: true });
    fs.rmSync(this.volume, { recursive: true, force: true });
    this.server = null;
  }

  /** The plugin volume emptied (a fresh install's). */
  resetVolume() {
    fs.rmSync(this.volume, { recursive: true, force: true });
    fs.mkdirSync(this.volume);
  }

  // ---------------------------------------------------------------- login cookie and tokens
  sign(value) {
    const mac = createHmac('sha256', this.cookieSecret).update(value).digest('base64').replace(/=+$/, '');
    return `s:${value}.${mac}`;
  }

  unsign(signed) {
    if (typeof signed !== 'string' || !signed.startsWith('s:')) return undefined;
    const raw = signed.slice(2);
    const dot = raw.lastIndexOf('.');
    if (dot < 0) return undefined;
    const value = raw.slice(0, dot);
    const expect = Buffer.from(this.sign(value));
    const got = Buffer.from(signed);
    if (expect.length !== got.length || !timingSafeEqual(expect, got)) return undefined;
    return value;
  }

  /** Scrypted's auth middleware (§6.3), its checks in its order: {username, aclId} or {}. */
  authenticate(req, url) {
    const env = this.runtime.data.env;
    const user = (name) => {
      const u = this.runtime.findUser(name);
      return u ? { username: u.username, aclId: u.aclId } : undefined;
    };
    const remote = String(req.socket.remoteAddress || '').replace(/^::ffff:/, '');
    if (env.SCRYPTED_ADMIN_ADDRESS && env.SCRYPTED_ADMIN_USERNAME && remote === env.SCRYPTED_ADMIN_ADDRESS) {
      return { username: env.SCRYPTED_ADMIN_USERNAME, aclId: undefined };
    }
    const found = this.authenticateCredentials(req, url);
    if (found.username) return found;
    const optOut = url.searchParams.has('disableDefaultAuthentication')
      || String(req.headers.referer || '').includes('disableDefaultAuthentication');
    if (env.SCRYPTED_DEFAULT_AUTHENTICATION && !optOut) return user(env.SCRYPTED_DEFAULT_AUTHENTICATION) || {};
    return {};
  }

  /** The cookie, bearer and query-token checks of the middleware. */
  authenticateCredentials(req, url) {
    const signed = parseCookies(req.headers.cookie)[loginCookieName(req)];
    if (signed) {
      const value = this.unsign(signed);
      if (value) {
        try {
          const t = JSON.parse(value);
          const now = Date.now();
          const user = this.runtime.findUser(t.u);
          if (user && typeof t.t === 'number' && t.t <= now + 60_000 && now < t.t + (t.d || 0) && t.d <= 365 * 86_400_000) {
            return { username: user.username, aclId: t.a || undefined };
          }
        } catch { /* invalid */ }
      }
    }
    const auth = String(req.headers.authorization || '');
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    const token = m ? m[1].trim() : url.searchParams.get('scryptedToken');
    if (token) {
      const u = this.userForScryptedToken(token);
      if (u) return { username: u.username, aclId: u.aclId };
    }
    return {};
  }

  userForScryptedToken(token) {
    if (token === this.runtime.data.env.SCRYPTED_ADMIN_TOKEN) return this.runtime.findUser(ADMIN.username) || { username: ADMIN.username };
    const byLogin = this.loginTokens.get(token);
    if (byLogin) return this.runtime.findUser(byLogin);
    return this.runtime.data.users.find((u) => u.token === token);
  }

  // ---------------------------------------------------------------- routing
  async handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const p = url.pathname;
    if (p.startsWith('/__devhost/')) return this.inspection(req, res, url);
    if (p === '/login') return this.login(req, res, url);
    if (p === '/logout') return this.logout(req, res);
    const m = /^\/endpoint\/((?:@[^/]+\/)?[^/]+)(\/public)?(\/.*)?$/.exec(p);
    if (m) {
      const isPublic = !!m[2] && (m[3] === undefined || m[3].startsWith('/'));
      return this.endpoint(req, res, url, decodeURIComponent(m[1]), isPublic);
    }
    if (p === '/' && req.method === 'GET') return this.index(req, res);
    req.resume();
    return expressErrorPage(res, 404, `Cannot ${req.method} ${p}`);
  }

  index(req, res) {
    const auth = this.authenticate(req, new URL(req.url, 'http://x'));
    sendHtml(res, 200, `<!doctype html><meta charset="utf-8"><title>scrypted-mcp dev host</title>
<body style="font-family:system-ui;max-width:44em;margin:2em auto">
<h1>scrypted-mcp dev host</h1>
<p>${auth.username ? `Logged in as <b>${htmlEscape(auth.username)}</b>. <a href="/logout">Log out</a>` : `Not logged in. <a href="/login">Log in</a>`}</p>
<ul><li>MCP endpoint: <code>${htmlEscape(this.mcpUrl)}</code></li>
<li>Login: <a href="/login">${htmlEscape(this.loginUrl)}</a> (${ADMIN.username} / ${ADMIN.password})</li>
<li>Plugin root: <a href="/endpoint/${PLUGIN_ID}/public/">/endpoint/${PLUGIN_ID}/public/</a></li></ul>
<pre>claude mcp add --transport http scrypted ${htmlEscape(this.mcpUrl)}</pre></body>`);
  }

  // ---------------------------------------------------------------- /login
  loginPage(res, { error, redirect, status = 200 } = {}) {
    sendHtml(res, status, `<!doctype html><meta charset="utf-8"><title>Scrypted login (dev host)</title>
<body style="font-family:system-ui;max-width:24em;margin:4em auto">
<h1>Scrypted</h1><p>Log in (dev host; demo admin: <code>${ADMIN.username}</code> / <code>${ADMIN.password}</code>)</p>
${error ? `<p style="color:#b00">${htmlEscape(error)}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="redirect" value="${htmlEscape(redirect || '')}">
<p><label>Username<br><input name="username" autocomplete="username" autofocus></label></p>
<p><label>Password<br><input name="password" type="password" autocomplete="current-password"></label></p>
<p><button type="submit">Log in</button></p></form></body>`);
  }

  safeRedirect(value) {
    if (!value) return '';
    try {
      const u = new URL(value, this.baseUrl);
      if (u.origin !== this.baseUrl && !/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(u.origin)) return '';
      return u.toString();
    } catch { return ''; }
  }

  async login(req, res, url) {
    const wantsHtml = /text\/html/.test(String(req.headers.accept || ''));
    if (req.method === 'GET') {
      const auth = this.authenticate(req, url);
      if (auth.username) {
        if (wantsHtml && url.searchParams.get('redirect')) {
          const to = this.safeRedirect(url.searchParams.get('redirect'));
          if (to) { res.writeHead(302, { location: to }); return res.end(); }
        }
        return sendJson(res, 200, { username: auth.username, expiration: COOKIE_MAX_AGE_MS, hasLogin: true, ...(auth.aclId ? { aclId: auth.aclId } : {}) });
      }
      if (wantsHtml) {
        const redirect = url.searchParams.get('redirect') || url.searchParams.get('redirect_uri') || url.searchParams.get('next') || req.headers.referer || '';
        return this.loginPage(res, { redirect: this.safeRedirect(redirect) });
      }
      return sendJson(res, 200, { error: 'Not logged in.', hasLogin: this.runtime.data.users.length > 0 });
    }
    if (req.method !== 'POST') { req.resume(); return expressErrorPage(res, 404, `Cannot ${req.method} /login`); }
    const got = await bodyOrErrorPage(req, res);
    if (!got) return undefined;
    const { parsed } = got;
    const fields = parsed && typeof parsed === 'object' && !Buffer.isBuffer(parsed) ? parsed : {};
    const username = typeof fields.username === 'string' ? fields.username : '';
    const password = typeof fields.password === 'string' ? fields.password : '';
    const redirect = this.safeRedirect(typeof fields.redirect === 'string' ? fields.redirect : '');
    const formPost = mediaType(req) === 'application/x-www-form-urlencoded' && (wantsHtml || 'redirect' in fields);
    const fail = (error) => (formPost ? this.loginPage(res, { error, redirect }) : sendJson(res, 200, { error }));
    if (!username || !password) return fail('Username and password are required.');
    if (this.runtime.data.users.length === 0) {
      // First login on an empty user table creates that user as admin (§9 "First admin").
      this.runtime.addUser(username, password, undefined);
    }
    const user = this.runtime.findUser(username);
    if (!user) return fail('User does not exist.');
    if (user.password !== password) return fail('Incorrect password.');
    const now = Date.now();
    const value = JSON.stringify({ u: user.username, a: user.aclId, t: now, d: COOKIE_MAX_AGE_MS });
    const secure = isHttps(req);
    const cookie = `${loginCookieName(req)}=${encodeURIComponent(this.sign(value))}; Max-Age=${COOKIE_MAX_AGE_MS / 1000}; Path=/; Expires=${new Date(now + COOKIE_MAX_AGE_MS).toUTCString()}; HttpOnly${secure ? '; Secure' : ''}`;
    const loginToken = randomBytes(16).toString('hex');
    this.loginTokens.set(loginToken, user.username);
    if (formPost) {
      if (redirect) {
        res.writeHead(302, { 'set-cookie': cookie, location: redirect });
        return res.end();
      }
      return sendHtml(res, 200, `<!doctype html><meta charset="utf-8"><title>Logged in</title><body style="font-family:system-ui;max-width:30em;margin:4em auto"><p>Logged in as <b>${htmlEscape(user.username)}</b>. Go back to the page that sent you here and reload it.</p><p><a href="/">Dev host home</a></p></body>`, { 'set-cookie': cookie });
    }
    return sendJson(res, 200, {
      authorization: `Bearer ${loginToken}`,
      queryToken: { scryptedToken: loginToken },
      token: user.token,
      username: user.username,
      expiration: COOKIE_MAX_AGE_MS,
      addresses: [this.baseUrl],
    }, { 'set-cookie': cookie });
  }

  logout(req, res) {
    req.resume();
    res.writeHead(302, {
      'set-cookie': ['login_user_token_insecure=; Path=/; Max-Age=0', 'login_user_token=; Path=/; Max-Age=0'],
      location: '/login',
    });
    res.end();
  }

  // ---------------------------------------------------------------- /endpoint/...
  /**
   * runtime.ts addAccessControlHeaders: every origin of every id's list (setCORS) and of
   * SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS (split at commas, nothing trimmed) is echoed, on
   * any route, with credentials; no wildcard.
   */
  scryptedCorsHeaders(req) {
    const h = {
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'Content-Type, Authorization, Content-Length, X-Requested-With, Access-Control-Request-Method',
      'access-control-allow-credentials': 'true',
      'access-control-allow-private-network': 'true',
      vary: 'Origin,Referer',
    };
    const origin = req.headers.origin;
    if (origin) {
      const envList = String(this.runtime.data.env.SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS || '').split(',');
      const allowed = new Set([...Object.values(this.runtime.data.cors).flat(), ...envList]);
      if (allowed.has(origin)) h['access-control-allow-origin'] = origin;
    }
    return h;
  }

  async endpoint(req, res, url, endpoint, isPublic) {
    const pluginRoot = this.runtime.data.plugins[PLUGIN_ID]?.rootId || '3';
    const auth = this.authenticate(req, url);
    if (!isPublic && !auth.username) {
      req.resume();
      return sendHtml(res, 401, 'Not Authorized');
    }
    if (endpoint !== PLUGIN_ID && endpoint !== pluginRoot) {
      req.resume();
      return sendHtml(res, 404, 'Not Found');
    }
    const got = await bodyOrErrorPage(req, res);
    if (!got) return undefined;
    const { body } = got;
    const rootPath = `/endpoint/${endpoint}${isPublic ? '/public' : ''}`;
    const request = {
      body,
      headers: { ...req.headers },
      method: req.method,
      rootPath,
      url: req.url,
      isPublicEndpoint: isPublic,
      username: auth.username,
      aclId: auth.aclId,
    };
    for (const [k, v] of Object.entries(this.scryptedCorsHeaders(req))) res.setHeader(k, v);
    await this.callPlugin(req, res, request);
  }

  /** createResponseInterface + handleRequestEndpoint: exactly one send*, else 500. */
  async callPlugin(req, res, request) {
    this.pluginAnswers.add(res);
    res.on('close', () => this.pluginAnswers.delete(res));
    let sent = false;
    const log = this.logFn;
    const apply = (options) => {
      if (options?.code) res.statusCode = options.code;
      for (const [k, v] of Object.entries(options?.headers || {})) {
        if (v === undefined || v === null) continue;
        res.setHeader(k, Array.isArray(v) ? v.map(String) : String(v));
      }
    };
    const once = (what) => {
      if (sent) { log(`plugin called ${what} after a response was already sent (ignored)`); return false; }
      sent = true;
      return true;
    };
    const response = {
      send: (body, options) => {
        if (!once('send')) return;
        apply(options);
        let buf;
        if (body === undefined || body === null) buf = Buffer.alloc(0);
        else if (Buffer.isBuffer(body) || body instanceof Uint8Array) buf = Buffer.from(body);
        else {
          buf = Buffer.from(String(body), 'utf8');
          // express res.send(string): text/html by default, charset=utf-8 added
          const ct = res.getHeader('content-type');
          if (!ct) res.setHeader('content-type', 'text/html; charset=utf-8');
          else if (!/charset=/i.test(String(ct))) res.setHeader('content-type', `${ct}; charset=utf-8`);
        }
        if (!res.getHeader('content-type')) res.setHeader('content-type', 'application/octet-stream');
        if (res.statusCode === 204 || res.statusCode === 304) {
          res.removeHeader('content-type');
          res.end();
          return;
        }
        res.setHeader('content-length', buf.length);
        res.end(req.method === 'HEAD' ? undefined : buf);
      },
      sendStream: (generator, options) => {
        if (!once('sendStream')) return;
        apply(options);
        res.flushHeaders();
        // As Scrypted's sendStream (server/src/http-interfaces.ts): a closed connection is
        // seen only when a chunk arrives, before and after it is written, and then the
        // loop's return ends the generator (its `return()`); nothing watches the socket
        // while the plugin is still producing the next chunk.
        const closed = () => res.closed || res.destroyed;
        (async () => {
          try {
            for await (const chunk of generator) {
              if (closed()) return;
              if (!res.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))) await new Promise((r) => res.once('drain', r));
              if (closed()) return;
            }
            res.end();
          } catch (e) {
            log('sendStream generator failed', e);
            res.destroy(e);
          }
        })();
      },
      sendFile: (p) => {
        if (!once('sendFile')) return;
        const file = path.resolve(this.plugin.fsDir, String(p));
        if (!file.startsWith(this.plugin.fsDir) || !fs.existsSync(file)) {
          res.statusCode = 404;
          res.end('Not Found');
          return;
        }
        res.end(fs.readFileSync(file));
      },
      sendSocket: () => {
        if (!once('sendSocket')) return;
        res.statusCode = 500;
        res.end('sendSocket is not supported by the dev host');
      },
    };
    try {
      // onRequest is an RPC call: the request arrives as a copy.
      await this.plugin.instance.onRequest(JSON.parse(JSON.stringify(request)), response);
    } catch (e) {
      log('plugin onRequest threw', e);
    }
    if (!sent) {
      sent = true;
      res.statusCode = 500;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('Internal Plugin Error');
    }
  }

  // ---------------------------------------------------------------- /__devhost (control.mjs)
  inspection(req, res, url) {
    return control(this, req, res, url);
  }
}

/** Starts a dev host. opts: {port (0 = any free), zip, chdir, quiet, log}. */
export async function startDevHost(opts = {}) {
  const host = new DevHostServer(opts);
  await host.start();
  return host;
}
