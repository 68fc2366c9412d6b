// Issue 11 end to end, with real clients against the production build in the dev host:
// camera snapshots as image content (the SDK client, after the full OAuth flow), device
// resources followed live in both protocol eras (the SDK client's legacy session with
// resources/subscribe and its GET stream; raw 2026-07-28 subscriptions/listen over fetch),
// the event ring, and the prompts; and that a call waiting on a camera holds up no other
// request. The dev host fires device events through /__devhost/event; cameras misbehave on
// request through /__devhost/camera.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import jpeg from 'jpeg-js';
import { waitFor } from './helpers/devhost.mjs';
import { startLoggedIn, connectSdkClient, obtainTokens } from './helpers/oauth.mjs';
import { modernInit, parseSse } from './helpers/mcp.mjs';
import { pictureInfo } from './helpers/picture.mjs';
import { callsMatching, resultJson, resultText } from './helpers/tools.mjs';

const LIGHT = 'scrypted://devices/10';
const CAP = 2 * 1024 * 1024;

let host;
let cookie;
let client;
let token;

before(async () => {
  ({ host, cookie } = await startLoggedIn());
  ({ client } = await connectSdkClient(host.mcpUrl, cookie, { name: 'watch-e2e' }));
  token = (await obtainTokens(host, cookie)).tokens.access_token;
});
after(async () => {
  await client?.close().catch(() => {});
  await host?.stop();
});

const post = async (path, body) => {
  const r = await fetch(host.baseUrl + path, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
};
const fire = (id, property, value) => post('/__devhost/event', { id, property, value });
const camera = (mode) => host.camera('12', mode);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The plugin's own count of open subscription streams (its Settings tab, Status group). */
const streams = async () => (await host.settings()).find((s) => s.key === 'status_listeners').value;

describe('get_camera_snapshot', () => {
  test('a JPEG of the requested width as image content, through takePicture and the media manager', async () => {
    await camera('jpeg');
    const r = await client.callTool({ name: 'get_camera_snapshot', arguments: { id: '12', width: 640 } });
    assert.notEqual(r.isError, true, resultText(r));
    const image = r.content.find((c) => c.type === 'image');
    assert.equal(image.mimeType, 'image/jpeg');
    const bytes = Buffer.from(image.data, 'base64');
    assert.deepEqual(pictureInfo(bytes), { format: 'jpeg', width: 640, height: 360 });
    const decoded = jpeg.decode(bytes, { useTArray: true });
    assert.equal(decoded.width, 640, 'the whole stream decodes');
    assert.match(resultText(r), /Device 12 \(Front Door Camera\), captured .*: 640×360 JPEG/);
    assert.equal(resultJson(r).width, 640);
    const calls = await host.calls();
    const taken = callsMatching(calls, 'device.takePicture').at(-1);
    assert.deepEqual(taken.args, [{ reason: 'event', picture: { width: 640 }, timeout: 10000 }]);
    assert.equal(taken.target, '12');
    assert.deepEqual(callsMatching(calls, 'mediaManager.convertMediaObjectToBuffer').at(-1).args, [{ mimeType: 'image/jpeg' }, 'image/jpeg']);
  });

  test('a device without Camera: its interfaces named, the host not asked', async () => {
    const before = callsMatching(await host.calls(), 'device.takePicture').length;
    const r = await client.callTool({ name: 'get_camera_snapshot', arguments: { id: '10' } });
    assert.equal(r.isError, true);
    assert.equal(resultText(r), 'Device 10 (Kitchen Light) is not a camera: it lacks the Camera interface. Its interfaces are: OnOff, Brightness, Refresh, Online. list_devices with interface "Camera" lists the cameras.');
    assert.equal(callsMatching(await host.calls(), 'device.takePicture').length, before);
  });

  test('a picture over the 2 MiB cap, a PNG, and a camera failure each get their own error', async () => {
    await camera('noise');
    let r = await client.callTool({ name: 'get_camera_snapshot', arguments: { id: '12', width: 1920 } });
    assert.equal(r.isError, true);
    const size = Number(/a picture of (\d+) bytes/.exec(resultText(r))?.[1]);
    assert.ok(size > CAP, resultText(r));
    assert.match(resultText(r), /over the cap of 2097152 bytes \(2 MiB\); ask for a smaller width \(this one asked for 1920\)\./);
    await camera('png');
    r = await client.callTool({ name: 'get_camera_snapshot', arguments: { id: '12' } });
    assert.equal(r.isError, true);
    assert.match(resultText(r), /answered image\/png data that is not a JPEG/);
    await camera('fail');
    r = await client.callTool({ name: 'get_camera_snapshot', arguments: { id: '12' } });
    assert.equal(r.isError, true);
    assert.equal(resultText(r), 'Device 12 (Front Door Camera) could not take a picture: Scrypted reported: Camera offline');
    await camera('jpeg');
  });

  // Requests overlap their waits on the host (docs/ARCHITECTURE.md "Concurrency"): nothing in
  // the shim or the wasm takes requests one at a time or holds shared state across a host
  // call, in the session of the waiting call or outside it (issue 12: a thin harness that
  // did not scale with concurrency was suspected of exactly that).
  test('a camera that never answers holds up only its own call: 16 calls meanwhile, in its session and stateless, are answered', { timeout: 20_000 }, async () => {
    await camera('hang');
    const asked = callsMatching(await host.calls(), 'device.takePicture').length;
    const controller = new AbortController();
    let answered = false;
    const hanging = client.callTool({ name: 'get_camera_snapshot', arguments: { id: '12' } }, undefined, { signal: controller.signal, timeout: 60_000 })
      .finally(() => { answered = true; });
    try {
      await waitFor(async () => callsMatching(await host.calls(), 'device.takePicture').length > asked, { what: 'takePicture asked' });
      const inSession = Array.from({ length: 8 }, () => client.callTool({ name: 'get_server_info', arguments: {} }).then((r) => r.structuredContent));
      const stateless = Array.from({ length: 8 }, async () => {
        const res = await fetch(host.mcpUrl, modernInit(token, 'tools/call', { name: 'get_server_info', arguments: {} }));
        assert.equal(res.status, 200);
        const text = await res.text();
        const [msg] = (res.headers.get('content-type') ?? '').includes('text/event-stream') ? parseSse(text) : [JSON.parse(text)];
        return msg.result.structuredContent;
      });
      const infos = await Promise.all([...inSession, ...stateless]);
      assert.equal(infos.length, 16);
      for (const info of infos) assert.equal(typeof info.version, 'string', JSON.stringify(info));
      assert.equal(answered, false, 'the hanging call is still waiting for its camera');
    } finally {
      controller.abort();
      await hanging.catch(() => {});
      await camera('jpeg');
    }
  });
});

describe('following a device', () => {
  test('legacy: subscribed, three quick changes and a later one arrive coalesced, the read shows them, nothing after unsubscribing', { timeout: 30_000 }, async () => {
    const { ResourceUpdatedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const updates = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push({ uri: n.params.uri, at: Date.now() }));
    const sinceMs = (await client.callTool({ name: 'get_recent_events', arguments: {} })).structuredContent.now_ms;
    await client.subscribeResource({ uri: LIGHT });

    await fire('10', 'on', false);
    await fire('10', 'brightness', 10);
    await fire('10', 'brightness', 20);
    await waitFor(() => updates.length >= 2, { timeoutMs: 5000, what: 'the leading and the trailing update' });
    await sleep(1200);
    await fire('10', 'on', true);
    await waitFor(() => updates.length >= 3, { timeoutMs: 5000, what: 'the later update' });
    await sleep(1200);
    assert.deepEqual(updates.map((u) => u.uri), [LIGHT, LIGHT, LIGHT], 'leading, trailing (two changes folded), later');
    // Timed where the client receives them, so a leading update held up on a loaded machine
    // shortens the gap; a trailing update sent without waiting out the window would come
    // within a few ms of the leading one.
    assert.ok(updates[1].at - updates[0].at >= 500, `at most one a second: ${updates[1].at - updates[0].at} ms apart`);

    const read = await client.readResource({ uri: LIGHT });
    const state = JSON.parse(read.contents[0].text).state;
    assert.deepEqual([state.on, state.brightness], [true, 20]);

    await client.unsubscribeResource({ uri: LIGHT });
    await fire('10', 'on', false);
    await sleep(1500);
    assert.equal(updates.length, 3, 'nothing after unsubscribing');

    // The ring has all four in order (and the one after), whoever subscribed.
    const ring = (await client.callTool({ name: 'get_recent_events', arguments: { id: '10', since_ms: sinceMs } })).structuredContent;
    const seen = ring.events.reverse().map((e) => [e.interface, e.property, e.value]);
    assert.deepEqual(seen, [
      ['OnOff', 'on', false], ['Brightness', 'brightness', 10], ['Brightness', 'brightness', 20], ['OnOff', 'on', true], ['OnOff', 'on', false],
    ]);
  });

  test('2026-07-28: a listen stream gets the coalesced updates, and closing it frees its listener', { timeout: 30_000 }, async () => {
    const controller = new AbortController();
    const res = await fetch(host.mcpUrl, modernInit(token, 'subscriptions/listen', { notifications: { resourceSubscriptions: [LIGHT] } }, { id: 'follow-10', signal: controller.signal }));
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    const messages = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ done: true }));
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          messages.push(...parseSse(buffer.slice(0, end + 2)).map((m) => ({ ...m, at: Date.now() })));
          buffer = buffer.slice(end + 2);
        }
      }
    })();
    await waitFor(() => messages.length >= 1, { what: 'the acknowledgement' });
    assert.deepEqual(messages[0].params.notifications, { resourceSubscriptions: [LIGHT] });
    const listening = await streams();
    assert.ok(listening >= 1, `open streams: ${listening}`);

    await fire('10', 'brightness', 30);
    await fire('10', 'brightness', 31);
    await fire('10', 'brightness', 32);
    await waitFor(() => messages.length >= 3, { timeoutMs: 5000, what: 'leading and trailing updates' });
    await sleep(1200);
    await fire('10', 'brightness', 33);
    await waitFor(() => messages.length >= 4, { timeoutMs: 5000, what: 'the later update' });
    await sleep(1200);
    const updates = messages.slice(1);
    assert.equal(updates.length, 3, JSON.stringify(updates));
    for (const u of updates) {
      assert.equal(u.method, 'notifications/resources/updated');
      assert.deepEqual(u.params, { uri: LIGHT, _meta: { 'io.modelcontextprotocol/subscriptionId': 'follow-10' } });
    }
    const read = await fetch(host.mcpUrl, modernInit(token, 'resources/read', { uri: LIGHT }));
    const body = await read.json();
    assert.equal(JSON.parse(body.result.contents[0].text).state.brightness, 33);

    controller.abort();
    await reading;
    // As on Scrypted, the host sees the closed connection when it writes the next chunk: the
    // next change's notification.
    await fire('10', 'brightness', 34);
    await waitFor(async () => (await streams()) === listening - 1, { what: 'the listener to be freed' });
    assert.equal(messages.length, 4, 'nothing after closing');
    // One Scrypted listener all along: per-client interest lives in the plugin.
    assert.deepEqual((await host.state()).listeners, { system: 1, device: 0 });
  });
});

describe('prompts', () => {
  test('each prompt names real ids of the demo server and shows no secret', async () => {
    const { prompts } = await client.listPrompts();
    for (const name of ['diagnose_plugin', 'health_report', 'security_review']) assert.ok(prompts.some((p) => p.name === name), name);
    const text = async (name, args) => {
      const r = await client.getPrompt({ name, arguments: args });
      assert.equal(r.messages[0].role, 'user');
      const t = r.messages.map((m) => m.content.text ?? '').join('\n');
      for (const secret of ['hue-app-key-SECRET-abc123', 'hue-secret-token-0000', 'camera-PASSWORD-xyz', 'adm-TOKEN-5f1e9c', 'cluster-SECRET-77aa', 'webhook-AUTH-0042', 'mqtt PASSWORD 9', '0102030405060708090a0b0c0d0e0f10']) {
        assert.ok(!t.includes(secret), `${name} shows ${secret}`);
      }
      return t;
    };
    const hue = await text('diagnose_plugin', { plugin_id: '@scrypted/hue' });
    for (const id of ['device id is 4', '"10"', '"11"', 'Kitchen Light', 'bridgeUsername']) assert.ok(hue.includes(id), id);
    const health = await text('health_report', {});
    for (const id of ['alert-1', 'alert-2', '@scrypted/zwave', '0.144.2']) assert.ok(health.includes(id), id);
    const review = await text('security_review', {});
    for (const id of ['SCRYPTED_ADMIN_TOKEN', 'MQTT_PASSWORD', 'https://dashboard.home.example.org', 'sdk-e2e', 'scrypted:admin']) assert.ok(review.includes(id), id);
    const done = await client.complete({ ref: { type: 'ref/prompt', name: 'diagnose_plugin' }, argument: { name: 'plugin_id', value: '@scrypted/z' } });
    assert.deepEqual(done.completion.values, ['@scrypted/zwave']);
    const ids = await client.complete({ ref: { type: 'ref/resource', uri: 'scrypted://devices/{id}' }, argument: { name: 'id', value: '1' } });
    assert.deepEqual(ids.completion.values, ['1', '10', '11', '12', '13', '14', '15']);
  });
});
