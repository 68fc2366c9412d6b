// Vendored from ../shared/perf/ts-reference/ (not in this repo); the one change: the
// request and answer path (nodeHandler, scryptedResponse) moved to scrypted-response.mjs so
// that bench/harness.mjs serves this plugin through exactly the same code.
//
// Reference server: the request path of the TypeScript Scrypted MCP plugin, lifted out
// of Scrypted so it can be load-tested on its own.
//
//   node:http  ->  "Scrypted" HttpRequest {url, method, headers, body(text), rootPath}
//              ->  plugin.onRequest(req, res)
//                    strip /endpoint/scrypted-mcp/public, route /mcp
//                    ES256 bearer: WebCrypto subtle.verify + exp/iss/aud   (401 + WWW-Authenticate otherwise)
//                    session lookup by mcp-session-id (new McpServer + WebStandard transport if none)
//                    Web Request built from the HttpRequest, JSON.parse(body) passed as parsedBody
//                    transport.handleRequest(...) -> Web Response
//                    SSE -> res.sendStream(async generator), else buffered res.send(buf)
//
// What it leaves out: Scrypted's own express layer and the server<->plugin RPC hop.
// A plugin (ours included) pays those inside Scrypted either way.
//
// Env: PORT (default 18080), KEY_FILE (default ./signing-key.json next to this file).
// Binds 127.0.0.1 only.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';
import { nodeHandler } from './scrypted-response.mjs';
import { loadOrCreateKey, verifyJwt, endpointsFor, PLUGIN_ROOT, DEFAULT_KEY_FILE } from './jwt.mjs';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 18080);
const KEY_FILE = process.env.KEY_FILE || DEFAULT_KEY_FILE;
const SESSION_IDLE_MS = 60 * 60 * 1000; // reap sessions idle for 1 h ...
const SWEEP_EVERY_MS = 10 * 60 * 1000; // ... checked every 10 min, as the plugin does

// ---------------------------------------------------------------- tool surface

// Stands in for a call into Scrypted's server info; the result is small and constant.
async function getServerInfo() {
  return { version: '0.144.2', env: { SCRYPTED_INSECURE_PORT: '11080' } };
}

function createMcpServer() {
  const server = new McpServer({ name: 'scrypted-mcp', version: '0.0.0-bench' });
  server.registerTool(
    'get_server_info',
    {
      description: 'Get Scrypted server version and SCRYPTED_* environment variables.',
      inputSchema: {},
      outputSchema: { version: z.string(), env: z.record(z.string(), z.string()) },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      try {
        const result = await getServerInfo();
        return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
      } catch (e) {
        return { isError: true, content: [{ type: 'text', text: `error: ${e?.message ?? String(e)}` }] };
      }
    },
  );
  return server;
}

// ---------------------------------------------------------------- HttpRequest <-> Web bridge

const SYNTHETIC_ORIGIN = 'http://scrypted-mcp.local';

function toWebRequest(req) {
  const method = (req.method ?? 'GET').toUpperCase();
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (typeof v === 'string') headers.set(k, v);
  }
  const init = { method, headers };
  if (method !== 'GET' && method !== 'HEAD' && req.body !== undefined) init.body = req.body;
  return new Request(new URL(req.url ?? '/', SYNTHETIC_ORIGIN).toString(), init);
}

async function* chunks(stream) {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value && value.byteLength > 0) yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  } finally {
    try {
      reader.releaseLock();
    } catch {
      /* already released */
    }
  }
}

function plainHeaders(headers) {
  const out = {};
  headers.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

async function fromWebResponse(webRes, res) {
  const code = webRes.status;
  const headers = plainHeaders(webRes.headers);
  const sse = (webRes.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream');
  if (sse && webRes.body) {
    res.sendStream(chunks(webRes.body), { code, headers });
    return;
  }
  if (webRes.body) {
    res.send(Buffer.from(await webRes.arrayBuffer()), { code, headers });
    return;
  }
  res.send('', { code, headers });
}

function sendText(res, code, text, extra = {}) {
  res.send(text, { code, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...extra } });
}

// ---------------------------------------------------------------- the "plugin"

function originFromRequest(req) {
  const h = req.headers ?? {};
  const host = h['x-forwarded-host'] || h.host || `${HOST}:${PORT}`;
  const proto = h['x-forwarded-proto'] || 'http';
  return `${proto}://${host}`;
}

class McpPlugin {
  constructor(signingKey) {
    this.signing = signingKey; // a Promise, imported once
    this.sessions = new Map(); // mcp-session-id -> { transport, server, lastSeen }
    setInterval(() => this.sweep(), SWEEP_EVERY_MS).unref();
  }

  sweep() {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const [sid, e] of this.sessions) {
      if (e.lastSeen < cutoff) {
        this.sessions.delete(sid);
        e.transport.close().catch(() => {});
      }
    }
  }

  async verifyBearer(req) {
    const auth = req.headers?.authorization;
    if (!auth) return undefined;
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (!m) return undefined;
    const token = m[1];
    const ep = endpointsFor(originFromRequest(req));
    try {
      const key = await this.signing;
      const payload = await verifyJwt(key, token, { issuer: ep.issuer, audience: ep.resource });
      return {
        token,
        clientId: typeof payload.client_id === 'string' ? payload.client_id : 'unknown',
        scopes: typeof payload.scope === 'string' ? payload.scope.split(/\s+/).filter(Boolean) : [],
        expiresAt: payload.exp,
        resource: payload.aud ? new URL(String(payload.aud)) : undefined,
        extra: { sub: payload.sub },
      };
    } catch {
      return undefined;
    }
  }

  challenge(req) {
    const ep = endpointsFor(originFromRequest(req));
    return {
      code: 401,
      headers: {
        'Content-Type': 'application/json',
        'WWW-Authenticate': `Bearer resource_metadata="${ep.protected_resource_metadata}"`,
      },
      body: JSON.stringify({ error: 'unauthorized', error_description: 'Bearer token required' }),
    };
  }

  async onRequest(req, res) {
    try {
      const local = stripPluginPrefix(req);
      if (local === '/mcp' || local === '/mcp/') {
        await this.handleMcp(req, res);
        return;
      }
      sendText(res, 404, 'Not Found');
    } catch (e) {
      sendText(res, 500, `internal error: ${e?.message ?? String(e)}`);
    }
  }

  async handleMcp(req, res) {
    const authInfo = await this.verifyBearer(req);
    if (!authInfo) {
      // (The published plugin answers an unauthenticated GET with 405 to steer the TS
      // client's discovery; here every method gets the 401 challenge.)
      const c = this.challenge(req);
      res.send(c.body, { code: c.code, headers: c.headers });
      return;
    }

    const sid = req.headers?.['mcp-session-id'];
    let entry = sid ? this.sessions.get(sid) : undefined;
    if (!entry) entry = await this.createSession();
    entry.lastSeen = Date.now();

    const webReq = toWebRequest(req);
    let parsedBody;
    if (req.body && (req.method ?? 'GET').toUpperCase() === 'POST') {
      try {
        parsedBody = JSON.parse(req.body);
      } catch {
        res.send(JSON.stringify({ error: 'invalid_json' }), {
          code: 400,
          headers: { 'Content-Type': 'application/json' },
        });
        return;
      }
    }
    const webRes = await entry.transport.handleRequest(webReq, { parsedBody, authInfo });
    await fromWebResponse(webRes, res);
  }

  async createSession() {
    const entry = { transport: undefined, server: undefined, lastSeen: Date.now() };
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, entry);
      },
      onsessionclosed: (id) => {
        this.sessions.delete(id);
      },
    });
    const server = createMcpServer();
    entry.transport = transport;
    entry.server = server;
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return entry;
  }
}

function stripPluginPrefix(req) {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const root = req.rootPath ?? '';
  let local = path.startsWith(root) ? path.slice(root.length) : path;
  if (!local.startsWith('/')) local = '/' + local;
  return local;
}

// ---------------------------------------------------------------- the "Scrypted" host side

const plugin = new McpPlugin(loadOrCreateKey(KEY_FILE));

const httpServer = http.createServer(nodeHandler(plugin, PLUGIN_ROOT));

httpServer.listen(PORT, HOST, () => {
  const { port } = httpServer.address();
  console.log(`ts-reference listening on http://${HOST}:${port}${PLUGIN_ROOT}/mcp pid=${process.pid}`);
});

function shutdown() {
  httpServer.close();
  httpServer.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
