// The "Scrypted" host side of the thin harnesses (bench/ts-reference/server.mjs and
// bench/harness.mjs): one answer path for both plugins.

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
