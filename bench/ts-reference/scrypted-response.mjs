// The "Scrypted" host side of the thin harnesses (bench/ts-reference/server.mjs and
// bench/harness.mjs): one request and answer path for both plugins.

// Scrypted hands plugins a plain object whose body is the request text, and takes the answer
// back through send(body, {code, headers}) or sendStream(asyncIterable, {code, headers}).
export function scryptedResponse(nodeRes) {
  return {
    send(body, opts = {}) {
      const buf = typeof body === 'string' ? Buffer.from(body) : body;
      nodeRes.writeHead(opts.code ?? 200, { ...(opts.headers ?? {}), 'content-length': buf.length });
      nodeRes.end(buf);
    },
    sendStream(gen, opts = {}) {
      nodeRes.writeHead(opts.code ?? 200, opts.headers ?? {});
      nodeRes.flushHeaders(); // a standalone GET stream may stay silent for a while
      (async () => {
        try {
          for await (const chunk of gen) nodeRes.write(chunk);
        } finally {
          nodeRes.end();
        }
      })().catch(() => nodeRes.destroy());
      nodeRes.on('close', () => gen.return?.().catch?.(() => {}));
    },
  };
}

/**
 * A node:http request listener handing each request to `plugin.onRequest` as Scrypted's
 * HttpRequest (docs/reference/scrypted-host.md §6.4), its answer through scryptedResponse;
 * `rootPath` is the endpoint's root (Scrypted's `request.rootPath`). A request whose cookie
 * carries `login_user_token_insecure` is the logged-in admin, as Scrypted fills `username` for
 * a logged-in browser (only our /authorize looks at it).
 */
export function nodeHandler(plugin, rootPath) {
  return (nodeReq, nodeRes) => {
    const parts = [];
    nodeReq.on('data', (c) => parts.push(c));
    nodeReq.on('end', () => {
      const body = parts.length ? Buffer.concat(parts).toString('utf8') : undefined;
      const loggedIn = /(^|;\s*)login_user_token_insecure=/.test(nodeReq.headers.cookie ?? '');
      const req = {
        url: nodeReq.url,
        method: nodeReq.method,
        headers: nodeReq.headers,
        body,
        rootPath,
        isPublicEndpoint: true,
        username: loggedIn ? 'admin' : undefined,
      };
      plugin.onRequest(req, scryptedResponse(nodeRes)).catch((e) => {
        if (!nodeRes.headersSent) nodeRes.writeHead(500);
        nodeRes.end(String(e?.message ?? e));
      });
    });
  };
}
