// The thin harness: this plugin's dist/plugin.zip behind the same node:http → Scrypted-shaped
// HttpRequest → onRequest → send/sendStream path as bench/ts-reference/server.mjs, so the two
// compare like for like (no dev-host emulation, no Scrypted express layer, no RPC hop).
//
// The injected managers are bench/fake-host.mjs's; plugin storage is read from / written to
// STORAGE_FILE at start and exit so that the signing key (and so a token) outlives a restart
// for the cold-start figure; the plugin volume is VOLUME.
//
// Env: PORT (18082), ZIP (dist/plugin.zip), STORAGE_FILE (none: storage starts empty),
// VOLUME (the plugin volume directory; none: a temporary one, removed at exit).
// Binds 127.0.0.1 only. Prints "listening ... pid=N" once ready.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGIN_ROOT, loadWithFakeHost } from './fake-host.mjs';
import { nodeHandler } from './ts-reference/scrypted-response.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 18082);
const ZIP = process.env.ZIP || path.join(HERE, '../dist/plugin.zip');
const STORAGE_FILE = process.env.STORAGE_FILE;
const VOLUME = process.env.VOLUME || fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-bench-volume-'));

const initial = STORAGE_FILE && fs.existsSync(STORAGE_FILE) ? JSON.parse(fs.readFileSync(STORAGE_FILE, 'utf8')) : {};
// Scrypted starts each plugin process with its volume in the environment (plugin-host.ts).
process.env.SCRYPTED_PLUGIN_VOLUME = VOLUME;
const { loaded, localStorage } = await loadWithFakeHost(ZIP, { initial, port: PORT });
const plugin = loaded.instance;

const httpServer = http.createServer(nodeHandler(plugin, PLUGIN_ROOT));

httpServer.listen(PORT, HOST, () => {
  console.log(`harness listening on http://${HOST}:${httpServer.address().port}${PLUGIN_ROOT}/mcp pid=${process.pid}`);
});

function shutdown() {
  if (STORAGE_FILE) fs.writeFileSync(STORAGE_FILE, JSON.stringify(localStorage.map));
  fs.rmSync(loaded.dir, { recursive: true, force: true });
  if (!process.env.VOLUME) fs.rmSync(VOLUME, { recursive: true, force: true });
  httpServer.close();
  httpServer.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
