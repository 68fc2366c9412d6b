// A wasm trap (a Rust panic aborts the instance at once) through the real shim and dev host,
// made by the fixture build's `test_trap` tool. What the shim promises (js-shim/plugin.js):
// the answers in flight end, later requests are refused with 503 and Retry-After without
// touching the broken instance, and Scrypted is asked to restart the plugin, which then
// answers again from storage. The dev host restarts the plugin on deviceManager.requestRestart
// as Scrypted does (plugin-host-api.ts), after --restart-delay instead of 15 s, and logs an
// uncaught exception and lives on, as Scrypted's plugin worker does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startWithToken } from './helpers/oauth.mjs';
import { FIXTURE_ZIP, waitFor } from './helpers/devhost.mjs';
import { SLOW_MS } from '../../js-shim/dev/media.mjs';
import { modernInit } from './helpers/mcp.mjs';

const RESTART_DELAY_MS = 1500;

async function start(restartDelayMs = RESTART_DELAY_MS) {
  const { host, token } = await startWithToken({ zip: FIXTURE_ZIP, args: ['--restart-delay', String(restartDelayMs)] });
  const call = (name, args = {}, { signal } = {}) =>
    fetch(host.mcpUrl, modernInit(token, 'tools/call', { name, arguments: args }, { signal: signal ?? AbortSignal.timeout(10_000) }));
  return { host, call };
}

const restarts = async (host) => (await host.calls()).filter((c) => c.method === 'deviceManager.requestRestart').length;

/** The trapping call's answer: the fallback 500, in the shape of the plugin's other errors. */
async function assertFallback(res) {
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.equal(body.error, 'internal_error');
  assert.match(body.error_description, /console in Scrypted/);
}

test('after a trap, requests are refused with 503 until Scrypted has restarted the plugin, which answers from storage again', { timeout: 60_000 }, async () => {
  const { host, call } = await start();
  try {
    assert.equal((await call('get_server_info')).status, 200);
    const stored = await host.pluginStorage();
    await assertFallback(await call('test_trap'));

    // Refused at once, not sent into the trapped instance, however often asked.
    for (let i = 0; i < 3; i++) {
      const refused = await call('get_server_info');
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '20');
      const body = await refused.json();
      assert.equal(body.error, 'temporarily_unavailable');
      assert.match(body.error_description, /restarting it; try again in about 20 seconds/);
    }
    const setting = await host.putSetting('accessTokenTtl', 600);
    assert.equal(setting.status, 400);
    assert.match(setting.error, /restarting it/);
    assert.equal(await restarts(host), 1, 'one restart asked for');
    assert.deepEqual(await host.pluginStorage(), stored, 'the trap changed nothing stored');

    // The restart loads a fresh instance over the same storage: the token issued before the
    // trap is good again.
    const answered = await waitFor(async () => {
      const res = await call('get_server_info');
      return res.status === 200 ? res : undefined;
    }, { timeoutMs: RESTART_DELAY_MS + 15_000, intervalMs: 200, what: 'an answer after the restart' });
    assert.equal((await answered.json()).result.isError, false);
    assert.ok(host.stderr().includes("the plugin's wasm stopped"), 'the trap is logged on the plugin console');
    assert.equal(await restarts(host), 1);
  } finally {
    await host.stop();
  }
});

test('a trap in work the future queue polls ends the answers in flight and the streams open', { timeout: 60_000 }, async () => {
  const { host, call } = await start();
  try {
    await host.withCamera('12', 'hang', async () => {
      // A call waiting on a camera that never answers: after a second or two it streams
      // keep-alive comments until the tool's 12 s deadline.
      const snapshot = await call('get_camera_snapshot', { id: '12' }, { signal: AbortSignal.timeout(30_000) });
      assert.equal(snapshot.headers.get('content-type'), 'text/event-stream');
      const reader = snapshot.body.getReader();

      const from = Date.now();
      await assertFallback(await call('test_trap', { after_wait: true }));
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      assert.ok(Date.now() - from < 8_000, `the open stream ended with the trap, not at the camera deadline (${Date.now() - from} ms)`);
      assert.doesNotMatch(text, /"result"/, 'no answer came from the trapped instance');
    });
    assert.equal((await call('get_server_info')).status, 503);
    assert.equal(await restarts(host), 1);
  } finally {
    await host.stop();
  }
});

test('a trapped instance does nothing more: a host answer arriving after the trap wakes none of its work', { timeout: 60_000 }, async () => {
  // Scrypted restarts the plugin 15 s after the trap; until then the dead instance must not
  // go on with what it was doing (here: finishing a camera call and auditing it).
  const { host, call } = await start(60_000);
  try {
    const trail = path.join(host.info.pluginVolume, 'audit.jsonl');
    const rows = () => (fs.existsSync(trail) ? fs.readFileSync(trail, 'utf8').trim().split('\n').filter(Boolean) : []);
    assert.equal((await call('get_server_info')).status, 200);
    await host.withCamera('12', 'slow', async () => {
      const snapshot = call('get_camera_snapshot', { id: '12' }, { signal: AbortSignal.timeout(30_000) });
      await waitFor(async () => (await host.calls()).some((c) => c.method === 'device.takePicture'), { what: 'the camera asked' });
      await assertFallback(await call('test_trap', { after_wait: true }));
      const audited = rows().length;
      const calls = (await host.calls()).length;
      const answered = await snapshot;
      await answered.text().catch(() => '');
      // The camera answers SLOW_MS after it was asked; give the dead instance time to react.
      await new Promise((resolve) => setTimeout(resolve, SLOW_MS + 500));
      assert.equal(rows().length, audited, 'no audit row written after the trap');
      // The camera entry of host.js converts the picture it got in the same call it began
      // before the trap; nothing the wasm would start next (the audit, another call) runs.
      const after = (await host.calls()).slice(calls).map((c) => c.method);
      const started = after.filter((m) => !['deviceManager.requestRestart', 'mediaManager.convertMediaObjectToBuffer'].includes(m));
      assert.deepEqual(started, [], 'no host call started after the trap');
    });
  } finally {
    await host.stop();
  }
});
