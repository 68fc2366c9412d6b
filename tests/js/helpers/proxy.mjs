// The loopback bearer-adding proxy of docs/reference/mcp-protocol.md §2.8: forwards every request
// unchanged (method, path, streamed body, Host and Origin as sent) and adds
// `Authorization: Bearer <token>`. Used because the conformance suite's server mode cannot
// send an Authorization header.
import http from 'node:http';
import { viewAt } from './devhost.mjs';

export async function startBearerProxy(targetBaseUrl, getToken) {
  const target = new URL(targetBaseUrl);
  const server = http.createServer((inReq, inRes) => {
    const token = getToken();
    const headers = token ? { ...inReq.headers, authorization: `Bearer ${token}` } : { ...inReq.headers };
    const out = http.request(
      { host: target.hostname, port: target.port, method: inReq.method, path: inReq.url, headers },
      (res) => {
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
