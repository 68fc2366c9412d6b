// bench/worker.mjs measures a running process the way it measures a plugin worker on a real
// Scrypted: here the process is bench/harness.mjs serving dist/plugin.zip, driven by
// bench/load.mjs. Its threads' CPU is read from /proc, its main thread profiled through the
// inspector that SIGUSR1 opens, and that inspector closed again afterwards.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../../scripts/lib.mjs';
import { PROD_ZIP, requireFile } from './helpers/devhost.mjs';
import { obtainTokens } from './helpers/oauth.mjs';

const WORKER = path.join(ROOT, 'bench/worker.mjs');
const run = (...args) => spawnSync(process.execPath, [WORKER, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

/** A port nothing listens on now (the harness's, and its inspector's on SIGUSR1). */
async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

let harness;
let inspectPort;
let mcpUrl;
let token;

before(async () => {
  requireFile(PROD_ZIP);
  inspectPort = await freePort();
  harness = spawn(process.execPath, [`--inspect-port=127.0.0.1:${inspectPort}`, path.join(ROOT, 'bench/harness.mjs')], {
    env: { ...process.env, PORT: String(await freePort()) }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  mcpUrl = await new Promise((resolve, reject) => {
    let out = '';
    harness.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\S+) pid=/);
      if (m) resolve(m[1]);
    });
    harness.once('exit', (code) => reject(new Error(`bench/harness.mjs exited with ${code}`)));
  });
  const base = mcpUrl.replace(/\/mcp$/, '');
  // The harness treats Scrypted's login cookie as the logged-in admin.
  ({ tokens: { access_token: token } } = await obtainTokens({ url: (p) => base + p, mcpUrl }, 'login_user_token_insecure=bench', { scope: 'scrypted:admin' }));
});

after(() => {
  if (harness?.exitCode === null) harness.kill('SIGTERM');
});

test("reports the process's threads and its main thread's profile per request, then closes the inspector", async () => {
  const r = run('--pid', String(harness.pid), '--url', mcpUrl, '--token', token, '--duration', '1',
    '--profile', '--port', String(inspectPort), '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.requests > 0, 'load.mjs answered requests');
  const [main, ...helpers] = out.threads;
  assert.equal(main.tid, harness.pid, 'the main thread is listed first');
  // One thread's CPU cannot exceed the wall time: per request, 1 s over the requests per second.
  const wallUs = 1e6 / out.rps;
  assert.ok(main.us > 0 && main.us < 1.05 * wallUs, `the main thread used ${main.us} µs per request of ${wallUs}`);
  assert.ok(helpers.every((t) => t.tid !== harness.pid && t.us >= 0.05), JSON.stringify(helpers));

  const kinds = Object.fromEntries(out.profile.kinds.map((k) => [k.name, k.us]));
  assert.ok(kinds.wasm > 0, `the wasm's time is found: ${JSON.stringify(kinds)}`);
  assert.ok(kinds["plugin's JS"] > 0, `the shim's time is found: ${JSON.stringify(kinds)}`);
  assert.equal(kinds.idle, undefined, 'idle time is not busy time');
  const profiledWallUs = 1e6 / out.profile.rps;
  assert.ok(out.profile.busyUs > 0 && out.profile.busyUs < 1.05 * profiledWallUs, `busy ${out.profile.busyUs} µs per request of ${profiledWallUs}`);
  assert.ok(out.profile.top.length > 0 && out.profile.top.length <= 15);

  // Closed again: the port is free, and the process goes on answering.
  await assert.rejects(fetch(`http://127.0.0.1:${inspectPort}/json/list`));
  const again = run('--pid', String(harness.pid), '--url', mcpUrl, '--token', token, '--duration', '1', '--json');
  assert.equal(again.status, 0, again.stderr);
  assert.ok(JSON.parse(again.stdout).requests > 0);
});

test('refuses, naming what to give, before it measures anything', () => {
  const missing = run('--url', 'http://127.0.0.1:9/mcp', '--token', 'T');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--pid is required/);
  const gone = run('--pid', '999999999', '--raw', 'http://127.0.0.1:9/');
  assert.equal(gone.status, 2);
  assert.match(gone.stderr, /no process 999999999/);
  const both = run('--pid', String(process.pid), '--url', 'http://127.0.0.1:9/mcp', '--raw', 'http://127.0.0.1:9/', '--token', 'T');
  assert.equal(both.status, 2);
  assert.match(both.stderr, /exactly one of --url .* and --raw/);
  const tokenless = run('--pid', String(process.pid), '--url', 'http://127.0.0.1:9/mcp');
  assert.equal(tokenless.status, 2);
  assert.match(tokenless.stderr, /--url needs --token/);
  const point = run('--pid', String(process.pid), '--raw', 'http://127.0.0.1:9/', '--point', 'fast');
  assert.equal(point.status, 2);
  assert.match(point.stderr, /--point must be one of legacy, modern, nohost, not "fast"/);
});
