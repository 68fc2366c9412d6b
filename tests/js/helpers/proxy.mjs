// Loopback proxies in front of the dev host. Both forward every request unchanged (method,
// path, streamed body, Host and Origin as sent, so the plugin sees the proxy's origin):
// - the bearer-adding proxy of docs/reference/mcp-protocol.md §2.8 adds
//   `Authorization: Bearer <token>`, because the conformance suite's server mode cannot send
//   an Authorization header;
// - the recording proxy keeps what crossed the wire (method, path, JSON-RPC methods of the
//   body, MCP headers, status), so a test can say what a real client sent.
import http from 'node:http';
import { viewAt } from './devhost.mjs';

export function startBearerProxy(targetBaseUrl, getToken) {
  return startProxy(targetBaseUrl, { getToken });
}

/** `log`: [{method, path, rpc: [JSON-RPC methods], inputResponses, version, sessionId, status,
 * contentType, answerStart: the answer's first bytes as text}], in order. */
export async function startRecordingProxy(targetBaseUrl) {
  const log = [];
  const proxy = await startProxy(targetBaseUrl, { log });
  return { ...proxy, log };
}

/** The JSON-RPC messages of a body (a message or a batch), [] for anything else. */
function rpcMessages(body) {
  try {
    const parsed = JSON.parse(body);
    return (Array.isArray(parsed) ? parsed : [parsed]).filter((m) => m && typeof m === 'object');
  } catch {
    return [];
  }
}

async function startProxy(targetBaseUrl, { getToken, log }) {
  const target = new URL(targetBaseUrl);
  const server = http.createServer((inReq, inRes) => {
    const token = getToken?.();
    const headers = token ? { ...inReq.headers, authorization: `Bearer ${token}` } : { ...inReq.headers };
    const chunks = [];
    if (log) inReq.on('data', (c) => chunks.push(c));
    const out = http.request(
      { host: target.hostname, port: target.port, method: inReq.method, path: inReq.url, headers },
      (res) => {
        const messages = log ? rpcMessages(Buffer.concat(chunks).toString('utf8')) : [];
        const entry = {
          method: inReq.method,
          path: new URL(inReq.url, 'http://x').pathname,
          rpc: messages.map((m) => m.method).filter(Boolean),
          // a 2026-07-28 retry answering an InputRequiredResult (MRTR)
          inputResponses: messages.some((m) => m.params?.inputResponses !== undefined),
          version: inReq.headers['mcp-protocol-version'] ?? null,
          sessionId: inReq.headers['mcp-session-id'] ?? null,
          status: res.statusCode,
          contentType: res.headers['content-type'] ?? null,
          answerStart: '',
        };
        log?.push(entry);
        if (log) res.on('data', (c) => { if (entry.answerStart.length < 32) entry.answerStart += c.toString('utf8').slice(0, 32); });
        inRes.writeHead(res.statusCode, res.headers);
        res.pipe(inRes);
      },
    );
    out.on('error', (e) => inRes.destroy(e));
    inRes.on('close', () => out.destroy());
    inReq.pipe(out);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    port,
    /** a DevHost-like view of the plugin's public endpoint through this proxy */
    view: (host) => viewAt(host, `http://127.0.0.1:${port}`),
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
