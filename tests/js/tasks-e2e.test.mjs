// The tasks extension (SEP-2663) with the product's tools through the real shim and dev
// host, where host calls are real promises: a task answers `working` at once, the task
// pump carries it on as its host calls settle (polled or not), and tasks/get inlines what
// the plain call would have answered; the same tools stay plain calls for a client without the extension, and
// restore_backup confirms through MRTR before its final step runs as a task. The protocol
// rules themselves are tested in tests/modern (Rust) and by the conformance suite.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startWithToken } from './helpers/oauth.mjs';
import { FIXTURE_ZIP, waitFor } from './helpers/devhost.mjs';
import { modernInit, parseSse } from './helpers/mcp.mjs';

const TASKS = { extensions: { 'io.modelcontextprotocol/tasks': {} } };
const PLUGIN = '@scrypted/ring';

let host;
let token;
before(async () => ({ host, token } = await startWithToken()));
after(() => host?.stop());

/** One 2026-07-28 request; its HTTP status and JSON-RPC answer. */
async function rpc(method, params, capabilities = TASKS) {
  const res = await fetch(host.mcpUrl, modernInit(token, method, params, { capabilities }));
  const text = await res.text();
  const answer = (res.headers.get('content-type') ?? '').includes('text/event-stream') ? parseSse(text).at(-1) : JSON.parse(text);
  return { status: res.status, answer };
}

async function result(method, params, capabilities) {
  const { status, answer } = await rpc(method, params, capabilities);
  assert.equal(status, 200, JSON.stringify(answer));
  assert.ok(answer.result, JSON.stringify(answer));
  return answer.result;
}

/** Polls the task (at least once) at its pollIntervalMs until it ends; every status seen,
 * and the last tasks/get answer. */
async function pollToEnd(created) {
  const seen = [created.status];
  let task = created;
  do {
    assert.ok(seen.length < 100, `the task ended: ${seen}`);
    await new Promise((r) => setTimeout(r, task.pollIntervalMs));
    task = await result('tasks/get', { taskId: created.taskId });
    assert.equal(task.resultType, 'complete');
    assert.equal(task.taskId, created.taskId);
    seen.push(task.status);
  } while (!['completed', 'failed', 'cancelled'].includes(task.status));
  return { seen, task };
}

function assertCreated(created) {
  assert.equal(created.resultType, 'task', JSON.stringify(created));
  assert.equal(created.status, 'working', 'host calls are promises: the first poll cannot finish the tool');
  assert.ok(Number.isInteger(created.ttlMs) && Number.isInteger(created.pollIntervalMs), JSON.stringify(created));
  for (const absent of ['result', 'error', 'requestState', 'task']) assert.ok(!(absent in created), absent);
}

test('install_plugin runs as a task that goes on unpolled; its first poll has the result', { timeout: 60_000 }, async () => {
  assert.ok(!(await host.state()).plugins.some((p) => p.pluginId === PLUGIN), 'not installed yet');
  const created = await result('tools/call', { name: 'install_plugin', arguments: { package: PLUGIN } });
  assertCreated(created);
  // The task pump carries the work on while the client does not poll at all.
  await waitFor(async () => (await host.state()).plugins.some((p) => p.pluginId === PLUGIN), { timeoutMs: 10_000, what: 'Scrypted to install it, unpolled' });
  const { seen, task } = await pollToEnd(created);
  assert.deepEqual(seen, ['working', 'completed'], 'done by the first poll');
  assert.equal(task.result.isError, false, JSON.stringify(task.result));
  assert.equal(task.result.structuredContent.package, PLUGIN);
  assert.equal(task.result.structuredContent.change, 'installed');
  // Once done the task keeps its result, and cancelling it changes nothing.
  assert.deepEqual((await result('tasks/cancel', { taskId: created.taskId })).resultType, 'complete');
  assert.equal((await result('tasks/get', { taskId: created.taskId })).status, 'completed');
});

test('without the extension the same tools answer plainly', { timeout: 60_000 }, async () => {
  const plain = await result('tools/call', { name: 'create_backup', arguments: {} }, {});
  assert.equal(plain.resultType, 'complete');
  assert.ok(!('taskId' in plain));
  assert.equal(plain.structuredContent.mime_type, 'application/zip');
  const { status, answer } = await rpc('tasks/get', { taskId: 'any' }, {});
  assert.equal(status, 400);
  assert.equal(answer.error.code, -32021);
});

test('create_backup and update_plugins as tasks inline what the plain call answers', { timeout: 60_000 }, async () => {
  const backup = await result('tools/call', { name: 'create_backup', arguments: {} });
  assertCreated(backup);
  const { task } = await pollToEnd(backup);
  assert.equal(task.status, 'completed', JSON.stringify(task));
  const blob = task.result.content.find((c) => c.type === 'resource').resource.blob;
  assert.equal(task.result.structuredContent.sha256, createHash('sha256').update(Buffer.from(blob, 'base64')).digest('hex'));

  const update = await result('tools/call', { name: 'update_plugins', arguments: {} });
  assertCreated(update);
  const updated = (await pollToEnd(update)).task;
  assert.equal(updated.status, 'completed', JSON.stringify(updated));
  assert.equal(updated.result.structuredContent.status, 'updated');
  const after = (await host.state()).plugins;
  for (const c of updated.result.structuredContent.updated) assert.equal(after.find((p) => p.pluginId === c.plugin_id).version, c.after);
});

test('restore_backup confirms through MRTR, then its final step runs as a task', { timeout: 60_000 }, async () => {
  const backup = await result('tools/call', { name: 'create_backup', arguments: {} }, {});
  const data = Buffer.from(backup.content.find((c) => c.type === 'resource').resource.blob, 'base64');
  const args = {
    confirm: 'RESTORE FROM BACKUP',
    chunk_base64: data.toString('base64'),
    chunk_index: 0,
    total_chunks: 1,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
  const caps = { elicitation: {}, ...TASKS };
  const asked = await result('tools/call', { name: 'restore_backup', arguments: args }, caps);
  assert.equal(asked.resultType, 'input_required', JSON.stringify(asked));
  assert.ok(!('taskId' in asked));
  const [key] = Object.keys(asked.inputRequests);
  const before = (await host.state()).restoredBackups.length;
  const created = await result('tools/call', {
    name: 'restore_backup',
    arguments: args,
    inputResponses: { [key]: { action: 'accept', content: { decision: 'RESTORE' } } },
    requestState: asked.requestState,
  }, caps);
  assert.equal(created.resultType, 'task', JSON.stringify(created));
  const { task } = await pollToEnd(created);
  assert.equal(task.status, 'completed', JSON.stringify(task));
  assert.equal(task.result.structuredContent.status, 'scheduled');
  // The tool answered first; then Scrypted restored exactly these bytes, once.
  await waitFor(async () => (await host.state()).restoredBackups.length === before + 1, { timeoutMs: 10_000, what: 'the restore' });
  assert.equal((await host.state()).restoredBackups.at(-1).sha256, args.sha256);
});

test('a listen stream naming a task hears its status change over real SSE (fixture build)', { timeout: 60_000 }, async () => {
  // The product's tools never wait for input, so their tasks may end before a stream
  // opens; the fixture's confirm_delete waits for tasks/update.
  const fixture = await startWithToken({ zip: FIXTURE_ZIP });
  const controller = new AbortController();
  try {
    const at = (method, params, capabilities = { elicitation: {}, ...TASKS }, opts = {}) =>
      fetch(fixture.host.mcpUrl, modernInit(fixture.token, method, params, { capabilities, ...opts }));
    const created = await (await at('tools/call', { name: 'confirm_delete', arguments: { filename: 'e2e.txt' } })).json();
    const { taskId } = created.result;
    assert.ok(taskId, JSON.stringify(created));
    const listen = await at('subscriptions/listen', { notifications: { taskIds: [taskId] } }, TASKS, { id: 'tasks-1', signal: controller.signal });
    assert.equal(listen.headers.get('content-type'), 'text/event-stream');
    const events = sseEvents(listen.body.getReader());
    const ack = await events.next();
    assert.deepEqual(ack.value.params.notifications, { taskIds: [taskId] });
    const waiting = await (await at('tasks/get', { taskId })).json();
    assert.equal(waiting.result.status, 'input_required', JSON.stringify(waiting));
    const update = await at('tasks/update', { taskId, inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } });
    assert.equal((await update.json()).result.resultType, 'complete');
    let note = (await events.next()).value;
    // Had the pump reached the question only after the stream opened, that came first.
    if (note.params?.status === 'input_required') note = (await events.next()).value;
    assert.equal(note.method, 'notifications/tasks');
    assert.equal(note.params.taskId, taskId);
    assert.equal(note.params.status, 'completed');
    assert.equal(note.params.result.content[0].text, 'Deleted e2e.txt');
    assert.equal(note.params._meta['io.modelcontextprotocol/subscriptionId'], 'tasks-1');
  } finally {
    controller.abort();
    await fixture.host.stop();
  }
});

/** The JSON-RPC messages of an SSE body, one per `next()` (comments skipped). */
async function* sseEvents(reader) {
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const [message] = parseSse(buffer.slice(0, end + 2));
      buffer = buffer.slice(end + 2);
      if (message) yield message;
    }
  }
}
