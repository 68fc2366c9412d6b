// MCP 2026-07-28 through the real shim and dev host, for what only a real HTTP stream shows:
// a subscriptions/listen response streams (unbuffered, acknowledged at once, notified while
// open, kept alive when idle) and closing it frees the listener; legacy response streams
// carry `X-Accel-Buffering: no` too; a request that runs long streams keep-alive comments
// and closing it cancels the request. The protocol rules themselves are tested in
// tests/modern (Rust) and by the conformance suite (conformance-modern.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, obtainTokens } from './helpers/oauth.mjs';
import { waitFor } from './helpers/devhost.mjs';
import { initialize, mcpRequest, modernInit, parseSse, req } from './helpers/mcp.mjs';

const AUDIT = 'scrypted-mcp://audit/recent';
const KEEP_ALIVE_MS = 15_000;

let host;
let token;
before(async () => {
  let cookie;
  ({ host, cookie } = await startLoggedIn());
  token = (await obtainTokens(host, cookie)).tokens.access_token;
});
after(async () => {
  await host?.stop();
});

const listeners = async () => (await host.settings()).find((s) => s.key === 'status_listeners').value;

/** Reads SSE blocks from `reader` until `done(block)`; returns the blocks read. */
async function readUntil(reader, done, blocks = []) {
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) throw new Error(`stream ended after ${JSON.stringify(blocks)}`);
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      blocks.push(block);
      if (done(block)) return blocks;
    }
  }
}
const data = (block) => parseSse(`${block}\n\n`)[0];

test('a listen stream is acknowledged at once, notified while open, kept alive, and freed on disconnect', { timeout: 60_000 }, async () => {
  const controller = new AbortController();
  const res = await fetch(host.mcpUrl, modernInit(token, 'subscriptions/listen', { notifications: { resourceSubscriptions: [AUDIT] } }, { id: 'listen-1', signal: controller.signal }));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  assert.equal(res.headers.get('x-accel-buffering'), 'no');
  const reader = res.body.getReader();
  const [ack] = await readUntil(reader, () => true);
  assert.equal(data(ack).method, 'notifications/subscriptions/acknowledged');
  assert.deepEqual(data(ack).params.notifications, { resourceSubscriptions: [AUDIT] });
  assert.equal(await listeners(), 1);

  // A tool call on another connection changes the audit trail: the open stream hears of it.
  const call = await fetch(host.mcpUrl, modernInit(token, 'tools/call', { name: 'list_plugins', arguments: {} }));
  assert.equal(call.status, 200);
  assert.equal((await call.json()).result.isError, false);
  const [update] = await readUntil(reader, () => true);
  assert.deepEqual(data(update).params, { uri: AUDIT, _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-1' } });

  // Idle: a comment line after the keep-alive interval, and nothing before it.
  const idleFrom = Date.now();
  const [comment] = await readUntil(reader, () => true);
  const waited = Date.now() - idleFrom;
  assert.equal(comment, ':');
  assert.ok(waited >= KEEP_ALIVE_MS - 1000, `kept alive after ${waited} ms`);

  // The client goes away. As on Scrypted, the host sees it when it writes the stream's next
  // chunk, here the notification of another call; then the plugin drops the stream and its
  // listener.
  controller.abort();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await listeners(), 1, 'nothing told the plugin yet');
  await fetch(host.mcpUrl, modernInit(token, 'tools/call', { name: 'list_plugins', arguments: {} })).then((r) => r.text());
  await waitFor(async () => (await listeners()) === 0, { what: 'the listener to be freed' });
});

test('legacy response streams are unbuffered too, and keep their event ids', { timeout: 30_000 }, async () => {
  // restore_backup stages a chunk with progress (the one product tool that streams).
  const chunk = { chunk_base64: Buffer.from('PK').toString('base64'), chunk_index: 0, total_chunks: 2, confirm: 'RESTORE FROM BACKUP' };
  const { sessionId, protocolVersion } = await initialize(host.mcpUrl, token, { capabilities: { elicitation: {} } });
  const legacy = await mcpRequest(host.mcpUrl, { token, sessionId, protocolVersion, body: req('tools/call', { name: 'restore_backup', arguments: chunk, _meta: { progressToken: 'p2' } }) });
  assert.equal(legacy.headers.get('content-type'), 'text/event-stream');
  assert.equal(legacy.headers.get('x-accel-buffering'), 'no');
  assert.match(legacy.text, /^id: /m);
  assert.equal(legacy.messages[0].method, 'notifications/progress');
  assert.equal(legacy.messages.at(-1).result.isError, false);
});

/** The audit trail's newest rows (the audit resource). */
async function auditRows() {
  const r = await fetch(host.mcpUrl, modernInit(token, 'resources/read', { uri: AUDIT }));
  assert.equal(r.status, 200);
  return JSON.parse((await r.json()).result.contents[0].text);
}

/** The audit rows of get_camera_snapshot calls, newest first. */
const snapshotRows = async () => (await auditRows()).filter((r) => r.tool === 'get_camera_snapshot');

/** Waits for the call after the `before` earlier ones to be audited; its row. */
async function audited(before, timeoutMs) {
  await waitFor(async () => (await snapshotRows()).length > before, { what: 'the call audited', timeoutMs });
  return (await snapshotRows())[0];
}

/** A 2026-07-28 get_camera_snapshot of the demo camera; the response and when it began. */
async function snapshotCall(signal) {
  const sent = Date.now();
  const res = await fetch(host.mcpUrl, modernInit(token, 'tools/call', { name: 'get_camera_snapshot', arguments: { id: '12' } }, { id: 'snap', signal }));
  return { res, after: Date.now() - sent };
}

test('a request that runs long streams keep-alive comments, and closing it cancels the request', { timeout: 30_000 }, () =>
  host.withCamera('12', 'hang', async () => {
    const before = (await snapshotRows()).length;
    const controller = new AbortController();
    const { res, after } = await snapshotCall(controller.signal);
    // Quick answers are JSON; this one becomes a stream after one to two seconds.
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.ok(after >= 900 && after < 4_000, `the stream began after ${after} ms`);
    const reader = res.body.getReader();
    assert.deepEqual(await readUntil(reader, () => true), [':']);
    const from = Date.now();
    assert.deepEqual(await readUntil(reader, () => true), [':']);
    const waited = Date.now() - from;
    assert.ok(waited >= 900 && waited < 4_000, `the next comment after ${waited} ms`);

    // The client goes away long before the tool's 12 s deadline: the call ends as cancelled,
    // when the host writes the next comment.
    controller.abort();
    assert.equal((await audited(before, 5_000)).outcome, 'cancelled');
    assert.ok(Date.now() - from < 8_000, 'cancelled before the camera deadline');
  }));

test('a client that goes away before the answer has started cancels the request too', { timeout: 30_000 }, () =>
  host.withCamera('12', 'hang', async () => {
    const before = (await snapshotRows()).length;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(snapshotCall(controller.signal), { name: 'AbortError' });
    const gone = Date.now();
    // The stream's opening comment, at one to two seconds, is the first chunk the host writes.
    assert.equal((await audited(before, 6_000)).outcome, 'cancelled');
    assert.ok(Date.now() - gone < 6_000, 'before the camera deadline');
  }));

test('a slow answer arrives on its stream after the keep-alive comment', { timeout: 30_000 }, () =>
  host.withCamera('12', 'slow', async () => {
    const { res } = await snapshotCall();
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const blocks = (await res.text()).split('\n\n').filter(Boolean);
    assert.equal(blocks[0], ':');
    const answer = data(blocks.at(-1));
    assert.equal(answer.id, 'snap');
    assert.equal(answer.result.isError, false, JSON.stringify(answer));
    assert.equal(answer.result.content.find((c) => c.type === 'image')?.mimeType, 'image/jpeg');
    assert.ok(blocks.slice(0, -1).every((b) => b === ':'), `only comments before the answer: ${blocks.slice(0, -1)}`);
  }));
