// The HTTP side of Scrypted the dev host imitates (docs/reference/scrypted-host.md §6): Express's
// error pages, the login cookie's name, and the body parsing of §6.2 — what a plugin's
// request handler sees.

export const JSON_LIMIT = 100 * 1024; // express json()/urlencoded()/text() default '100kb'
const RAW_LIMIT = 100 * 1024 * 1024;


export function htmlEscape(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** Express's error page (finalhandler). */
export function expressErrorPage(res, status, text) {
  const body = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>${htmlEscape(text)}</pre>\n</body>\n</html>\n`;
  res.writeHead(status, {
    'content-security-policy': "default-src 'none'",
    'x-content-type-options': 'nosniff',
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendHtml(res, status, html, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), ...headers });
  res.end(html);
}

export function parseCookies(header) {
  const out = {};
  for (const part of String(header || '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    let v = part.slice(i + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    try { v = decodeURIComponent(v); } catch { /* keep raw */ }
    if (!(k in out)) out[k] = v;
  }
  return out;
}

/** 'trust proxy' = loopback: X-Forwarded-Proto decides whether the request came over https (§6.3). */
export function isHttps(req) {
  return String(req.headers['x-forwarded-proto'] || '').split(',')[0].trim().toLowerCase() === 'https';
}

/** The login cookie Scrypted sets and reads: `login_user_token` over https, else `_insecure`. */
export function loginCookieName(req) {
  return isHttps(req) ? 'login_user_token' : 'login_user_token_insecure';
}

export function mediaType(req) {
  return String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
}

export function hasBody(req) {
  return req.headers['transfer-encoding'] !== undefined || !Number.isNaN(parseInt(req.headers['content-length'], 10));
}

export class HttpError extends Error {
  constructor(status, text) { super(text); this.status = status; }
}

export async function readBody(req, limit) {
  const declared = parseInt(req.headers['content-length'], 10);
  if (!Number.isNaN(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, 'PayloadTooLargeError: request entity too large');
  }
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, 'PayloadTooLargeError: request entity too large');
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** Scrypted's global parsers + plugin-http's stringification (§6.2). Returns the body the plugin sees. */
export async function scryptedBody(req) {
  const type = mediaType(req);
  if (!type || !hasBody(req)) {
    req.resume();
    return { parsed: undefined, body: undefined };
  }
  let parsed;
  if (type === 'application/json') {
    const text = (await readBody(req, JSON_LIMIT)).toString('utf8');
    if (text.length === 0) parsed = {};
    else {
      const first = /^[\x20\x09\x0a\x0d]*(.)/.exec(text)?.[1];
      if (first !== '{' && first !== '[') throw new HttpError(400, `SyntaxError: Unexpected token '${first ?? ''}', "${text.slice(0, 20)}" is not valid JSON`);
      try { parsed = JSON.parse(text); } catch (e) { throw new HttpError(400, `SyntaxError: ${e.message}`); }
    }
  } else if (type === 'application/x-www-form-urlencoded') {
    const text = (await readBody(req, JSON_LIMIT)).toString('utf8');
    parsed = {};
    for (const [k, v] of new URLSearchParams(text)) {
      if (k in parsed) parsed[k] = [].concat(parsed[k], v);
      else parsed[k] = v;
    }
  } else if (type === 'text/plain') {
    parsed = (await readBody(req, JSON_LIMIT)).toString('utf8');
  } else if (type.startsWith('application/')) {
    parsed = await readBody(req, RAW_LIMIT);
  } else {
    req.resume();
    return { parsed: undefined, body: undefined };
  }
  // plugin-http.ts: `req.body && typeof req.body !== 'string' ? JSON.stringify(req.body) : req.body`
  const body = parsed && typeof parsed !== 'string' ? JSON.stringify(parsed) : parsed;
  return { parsed, body };
}

/** scryptedBody, or Express's error page (413, 400) when its parsers refuse: then null. */
export async function bodyOrErrorPage(req, res) {
  try {
    return await scryptedBody(req);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    expressErrorPage(res, e.status, e.message);
    return null;
  }
}
