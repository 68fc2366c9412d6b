// Raw Streamable HTTP over fetch: exact status codes and headers, no SDK in between.

export const LATEST = '2025-11-25';
export const ACCEPT = 'application/json, text/event-stream';

/** Parses an SSE body into its events' JSON data (events with empty data are skipped). */
export function parseSse(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data.trim()) out.push(JSON.parse(data));
  }
  return out;
}

/**
 * One HTTP request to the MCP endpoint. body: object/array (JSON-encoded) or string.
 * Returns {status, headers, text, messages} where messages are the JSON-RPC messages of a
 * JSON or SSE body.
 */
export async function mcpRequest(url, { token, sessionId, body, protocolVersion = LATEST, headers = {}, method = 'POST', accept = ACCEPT } = {}) {
  const h = { accept, ...headers };
  if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  if (token) h.authorization = `Bearer ${token}`;
  if (sessionId) h['mcp-session-id'] = sessionId;
  if (protocolVersion) h['mcp-protocol-version'] = protocolVersion;
  const r = await fetch(url, {
    method,
    headers: h,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const ct = r.headers.get('content-type') ?? '';
  let text;
  if (ct.includes('text/event-stream') && method === 'GET') {
    // A GET stream stays open: read only what is there right away.
    text = '';
    r.body?.cancel().catch(() => {});
  } else {
    text = await r.text();
  }
  let messages = [];
  if (ct.includes('text/event-stream')) messages = parseSse(text);
  else if (ct.includes('application/json') && text) messages = [JSON.parse(text)].flat();
  return { status: r.status, headers: r.headers, text, messages };
}

let nextId = 1;
export const req = (method, params) => ({ jsonrpc: '2.0', id: nextId++, method, ...(params ? { params } : {}) });
export const note = (method, params) => ({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });

/** initialize + notifications/initialized. Returns {sessionId, result, response}. */
export async function initialize(url, token, { protocolVersion = LATEST, capabilities = {}, headers = {} } = {}) {
  const body = req('initialize', {
    protocolVersion,
    capabilities,
    clientInfo: { name: 'raw-fetch', version: '1.0.0' },
  });
  const response = await mcpRequest(url, { token, body, protocolVersion: null, headers });
  if (response.status !== 200) throw new Error(`initialize → ${response.status}: ${response.text}`);
  const msg = response.messages.find((m) => m.id === body.id);
  if (!msg?.result) throw new Error(`initialize gave no result: ${response.text}`);
  const sessionId = response.headers.get('mcp-session-id');
  const negotiated = msg.result.protocolVersion;
  const n = await mcpRequest(url, { token, sessionId, body: note('notifications/initialized'), protocolVersion: negotiated, headers });
  if (n.status !== 202) throw new Error(`notifications/initialized → ${n.status}: ${n.text}`);
  return { sessionId, result: msg.result, response, protocolVersion: negotiated };
}

export const MODERN = '2026-07-28';

/**
 * A 2026-07-28 request as a conformant client builds it: `_meta` with version, client and
 * capabilities, and the headers mirroring the body. Returns fetch's init for `url`.
 */
export function modernInit(token, method, params = {}, { id = nextId++, capabilities = {}, signal } = {}) {
  const headers = {
    accept: ACCEPT,
    'content-type': 'application/json',
    authorization: `Bearer ${token}`,
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
  };
  const name = method === 'resources/read' ? params.uri
    : ['tools/call', 'prompts/get'].includes(method) ? params.name
    : method.startsWith('tasks/') ? params.taskId // SEP-2663 "Routing Headers"
    : undefined;
  if (name !== undefined) headers['mcp-name'] = name;
  const _meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-fetch', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    ...params._meta,
  };
  const body = JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta } });
  return { method: 'POST', headers, body, signal };
}
