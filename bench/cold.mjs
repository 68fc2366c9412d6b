// One cold start, in a fresh process: unzip + evaluate main.nodejs.js (wasm compile and
// instantiate included) + construct the plugin + the first answer (GET the protected-resource
// metadata, which also creates the signing key on first boot). Prints one JSON line.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadPluginZip } from '../js-shim/dev/loader.mjs';
import { Runtime } from '../js-shim/dev/runtime.mjs';

const zip = process.argv[2];
const t0 = performance.now();
const runtime = new Runtime({ port: 11080, log: () => {} });
const params = runtime.pluginParams();
const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
const loaded = await loadPluginZip(zip, { params: { ...params, console: quiet } });
const t1 = performance.now();
const answer = await new Promise((resolve, reject) => {
  const res = {
    send: (body, o) => resolve({ code: o?.code, body }),
    sendStream: (_g, o) => resolve({ code: o?.code }),
  };
  loaded.instance.onRequest({
    method: 'GET',
    url: '/endpoint/scrypted-mcp/public/.well-known/oauth-protected-resource',
    rootPath: '/endpoint/scrypted-mcp/public',
    headers: { host: '127.0.0.1:11080' },
    isPublicEndpoint: true,
  }, res).catch(reject);
});
const t2 = performance.now();
// A second request that needs the signing key (JWKS), to show first-boot key creation.
await new Promise((resolve) => {
  loaded.instance.onRequest({
    method: 'GET', url: '/endpoint/scrypted-mcp/public/.well-known/jwks.json', rootPath: '/endpoint/scrypted-mcp/public',
    headers: { host: '127.0.0.1:11080' }, isPublicEndpoint: true,
  }, { send: resolve, sendStream: resolve });
});
const t3 = performance.now();
console.log(JSON.stringify({
  status: answer.code,
  loadMs: t1 - t0,
  unzipMs: loaded.load.unzipMs,
  evalMs: loaded.load.evalMs,
  constructMs: loaded.load.constructMs,
  firstAnswerMs: t2 - t1,
  coldStartMs: t2 - t0,
  firstJwksMs: t3 - t2,
  rssMb: process.memoryUsage().rss / 1048576,
}));
fs.rmSync(loaded.dir, { recursive: true, force: true });
process.exit(0);
