// The tool catalogue end to end with the SDK client against the production build: the dev
// host's simulated components + the shim + the wasm agree. (The Rust tests cover each
// tool's logic; this proves the wiring.) Also inspector-cli 1.0.3.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, waitFor } from './helpers/devhost.mjs';
import { startLoggedIn, connectSdkClient, obtainTokens } from './helpers/oauth.mjs';
import { resultJson, resultText, callsMatching, TOOL_NAMES } from './helpers/tools.mjs';
import { inspector } from './helpers/inspector.mjs';

const ALL = TOOL_NAMES;
const READ_ONLY = new Set(ALL.filter((n) => /^(get_|list_|npm_info$)/.test(n)));
const DESTRUCTIVE = ['restore_backup', 'remove_user', 'clear_logs', 'clear_alerts', 'remove_alert', 'kill_plugin', 'set_storage', 'set_dotenv', 'restart_server', 'update_server'];

let host;
let cookie;
let client;
let tools;
const OWN_PLUGIN = 'scrypted-mcp';

before(async () => {
  ({ host, cookie } = await startLoggedIn());
  ({ client } = await connectSdkClient(host.mcpUrl, cookie, { name: 'tools-e2e' }));
  tools = [];
  let cursor;
  for (let page = 0; page < 10; page++) {
    const r = await client.listTools(cursor ? { cursor } : undefined);
    tools.push(...r.tools);
    cursor = r.nextCursor;
    if (!cursor) break;
  }
});
after(async () => {
  await client?.close().catch(() => {});
  await host?.stop();
});

async function call(name, args = {}) {
  return client.callTool({ name, arguments: args });
}
async function ok(name, args) {
  const r = await call(name, args);
  assert.notEqual(r.isError, true, `${name} failed: ${resultText(r)}`);
  assert.ok(r.structuredContent && typeof r.structuredContent === 'object', `${name}: structuredContent`);
  return r;
}
async function fails(name, args, re) {
  const r = await call(name, args);
  assert.equal(r.isError, true, `${name} should fail: ${resultText(r).slice(0, 300)}`);
  if (re) assert.match(resultText(r), re);
  return r;
}
/**
 * Arguments that do not fit the schema: an input validation error, which the SDK's 2025-11-25
 * session gets as a tool error (server/tools "Error Handling"), so the model reads the message.
 */
async function invalidArguments(name, args) {
  const r = await call(name, args);
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} → isError: ${resultText(r).slice(0, 300)}`);
  assert.ok(resultText(r).length > 0, `${name}: a message for the model`);
  return r;
}
const tool = (name) => tools.find((t) => t.name === name);

describe('tools/list', () => {
  test('lists exactly the 41 tools with annotations and object schemas', async () => {
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, [...ALL].sort());
    for (const t of tools) {
      assert.ok(t.description && t.description.length > 20, `${t.name}: description`);
      assert.equal(t.inputSchema?.type, 'object', `${t.name}: inputSchema object`);
      assert.equal(t.outputSchema?.type, 'object', `${t.name}: outputSchema object`);
      const a = t.annotations ?? {};
      for (const k of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']) {
        assert.equal(typeof a[k], 'boolean', `${t.name}: ${k}`);
      }
      if (t.name !== 'create_backup') assert.equal(a.readOnlyHint, READ_ONLY.has(t.name), `${t.name}: readOnlyHint`);
      if (a.readOnlyHint) assert.equal(a.destructiveHint, false, `${t.name}: read-only tools are not destructive`);
    }
    for (const n of DESTRUCTIVE) assert.equal(tool(n).annotations.destructiveHint, true, `${n}: destructiveHint`);
    assert.match(tool('clear_logs').description, /alert/i, 'clear_logs says it also clears alerts');
    assert.match(tool('set_cors').description, /memory/i, 'set_cors says it is memory-only');
    assert.match(tool('create_backup').description, /secret/i, 'create_backup warns that a backup holds secrets');
  });

  test('serves the schemas pinned in src/tools/schemas.jsonl (what schemars generates: tests/tools/pinned.rs)', () => {
    const lines = fs.readFileSync(path.join(ROOT, 'src/tools/schemas.jsonl'), 'utf8').trim().split('\n');
    const pinned = new Map(lines.map((l) => JSON.parse(l)).map((p) => [p.name, p]));
    assert.equal(pinned.size, tools.length, 'one pinned line per listed tool');
    for (const t of tools) {
      assert.deepEqual(t.inputSchema, pinned.get(t.name)?.input, `${t.name}: inputSchema`);
      assert.deepEqual(t.outputSchema, pinned.get(t.name)?.output, `${t.name}: outputSchema`);
    }
  });
});

describe('devices', () => {
  test('list_devices filters; get_device; call_device_method changes the simulated device', async () => {
    const all = resultJson(await ok('list_devices', {}));
    assert.equal(all.devices.length, all.total);
    const demo = (await host.state()).devices;
    assert.equal(all.total, demo.length, 'every simulated device listed');
    const lights = resultJson(await ok('list_devices', { interface: 'OnOff' })).devices;
    assert.deepEqual(lights.map((d) => d.id).sort(), demo.filter((d) => d.interfaces.includes('OnOff')).map((d) => d.id).sort());
    const locks = resultJson(await ok('list_devices', { type: 'Lock' })).devices;
    assert.deepEqual(locks.map((d) => d.name), ['Front Door Lock']);
    const kitchen = resultJson(await ok('list_devices', { name: 'kitchen' })).devices;
    assert.deepEqual(kitchen.map((d) => d.name), ['Kitchen Light'], 'case-insensitive name substring');

    const id = kitchen[0].id;
    const dev = resultJson(await ok('get_device', { id }));
    assert.equal(dev.name, 'Kitchen Light');
    assert.ok(dev.interfaces.includes('OnOff'));
    const stateOn = async () => (await host.state()).devices.find((d) => d.id === id).state.on;
    assert.equal(await stateOn(), true, 'the demo light is on');
    const before = (await host.calls()).length;
    await ok('call_device_method', { id, method: 'turnOff', args: [] });
    assert.equal(await stateOn(), false, 'turnOff reached the simulated device');
    const c = callsMatching((await host.calls()).slice(before), /turnOff$/);
    assert.equal(c.length, 1, 'exactly one turnOff host call');
    assert.equal(String(c[0].target), id);
    await ok('call_device_method', { id, method: 'turnOn', args: [] });
    assert.equal(await stateOn(), true, 'turnOn reached the simulated device');
    await fails('get_device', { id: 'no-such-device' }, /^No device with id 'no-such-device'/);
    await fails('call_device_method', { id, method: 'noSuchMethod', args: [] });
    await invalidArguments('list_devices', { limit: 'many' });
  });
});

describe('logs and alerts', () => {
  test('get_logs filters by level and component; a bad device id fails', async () => {
    const all = resultJson(await ok('get_logs', {}));
    assert.ok(all.entries.length >= 10, 'demo logs');
    const errors = resultJson(await ok('get_logs', { level: 'e' })).entries;
    assert.ok(errors.length >= 2 && errors.length < all.entries.length, 'level filter narrows');
    assert.ok(errors.every((e) => e.level === 'e' || e.level === 'a'), 'error and above only');
    const zwave = resultJson(await ok('get_logs', { component: 'zwave' })).entries;
    assert.ok(zwave.length >= 1 && zwave.every((e) => /zwave/i.test(`${e.path} ${e.title}`)));
    const since = all.now_ms - 10 * 60_000;
    const recent = resultJson(await ok('get_logs', { since_ms: since })).entries;
    assert.ok(recent.length > 0 && recent.length < all.entries.length && recent.every((e) => e.timestamp >= since));
    await fails('get_logs', { device_id: 'no-such-device' });
    await invalidArguments('get_logs', { level: 'loud' });
  });

  // The real host showed `1796172523324.0` in the text block while structuredContent had
  // integers: the wasm bridge hands numbers over as f64. Compare the raw text, since
  // JSON.parse would hide the difference.
  test('log and alert times are the same integers in the text block and structuredContent', async () => {
    for (const [name, list] of [['get_logs', 'entries'], ['list_alerts', 'alerts']]) {
      const r = await ok(name, {});
      const text = resultText(r);
      const inText = [...text.matchAll(/"timestamp":([-0-9.eE+]+)/g)].map((m) => m[1]);
      const inStructured = r.structuredContent[list].map((e) => String(e.timestamp));
      assert.ok(inStructured.length > 0, `${name}: demo data`);
      assert.ok(inStructured.every((t) => /^\d+$/.test(t)), `${name}: integer ms`);
      assert.deepEqual(inText, inStructured, `${name}: text block times`);
    }
  });

  test('remove_alert removes one; clear_logs also clears alerts', async () => {
    const alerts = resultJson(await ok('list_alerts', {})).alerts;
    assert.ok(alerts.length >= 2, 'demo alerts exist');
    const r = resultJson(await ok('remove_alert', { id: alerts[0].id }));
    assert.equal(r.removed, true);
    assert.ok(!(await host.state()).alerts.some((a) => a._id === alerts[0].id), 'removed in the simulated host');
    const cleared = resultJson(await ok('clear_logs', {}));
    assert.ok(cleared.logs_removed > 0);
    assert.equal(cleared.alerts_removed, alerts.length - 1, 'the remaining alerts went with the logs');
    const st = await host.state();
    assert.equal(st.logsCount, 0);
    assert.equal(st.alerts.length, 0);
    assert.equal(resultJson(await ok('list_alerts', {})).alerts.length, 0);
  });
});

describe('users', () => {
  test('add_user / remove_user round trip; no secrets listed; refusals', async () => {
    const r0 = await ok('list_users', {});
    const wire = JSON.stringify(r0);
    for (const u of (await host.state()).users) {
      assert.ok(!wire.includes(u.password), `no password of ${u.username}`);
      assert.ok(!wire.includes(u.token), `no token of ${u.username}`);
    }
    assert.ok(resultJson(r0).users.some((u) => u.username === 'admin' && u.admin));
    const beforeAdd = (await host.calls()).length;
    await ok('add_user', { username: 'e2e-user', password: 'pw-123456789', admin: false });
    const addCalls = (await host.calls()).slice(beforeAdd);
    const created = callsMatching(addCalls, /^device\.createDevice$/);
    assert.equal(created.length, 1, "through core's users DeviceCreator, as the host UI does");
    assert.equal(String(created[0].target), '2');
    assert.equal(callsMatching(addCalls, /^users\.addUser/).length, 0, 'not the raw component');
    let st = await host.state();
    const added = st.users.find((u) => u.username === 'e2e-user');
    assert.ok(added, 'user added in the simulated host');
    assert.equal(added.admin, false, 'a restricted user');
    assert.ok(added.aclId, 'with an ACL, as the host UI makes them');
    assert.ok(resultJson(await ok('list_users', {})).users.some((u) => u.username === 'e2e-user'));
    const beforeRemove = (await host.calls()).length;
    await ok('remove_user', { username: 'e2e-user' });
    const removeCalls = (await host.calls()).slice(beforeRemove);
    assert.deepEqual(callsMatching(removeCalls, /^systemManager\.removeDevice$/).map((c) => c.args), [[added.aclId]], "core's user:<name> device removed");
    assert.equal(callsMatching(removeCalls, /^users\.removeUser$/).length, 0, 'not the raw component');
    st = await host.state();
    assert.ok(!st.users.some((u) => u.username === 'e2e-user'), 'user removed');
    await fails('remove_user', { username: 'no-such-user' });
    await fails('remove_user', { username: 'admin' }); // the last admin / the caller
    assert.ok((await host.state()).users.some((u) => u.username === 'admin'));
    await invalidArguments('add_user', { username: 'x' });
  });
});

describe('server', () => {
  test('get_dotenv redacts secrets; set_dotenv round trip keeps them', async () => {
    const rawBefore = (await host.state()).dotenv;
    const secretLine = rawBefore.split('\n').find((l) => l.startsWith('SCRYPTED_CLUSTER_SECRET='));
    assert.ok(secretLine);
    const secretValue = secretLine.split('=')[1];
    const d = await ok('get_dotenv', {});
    const text = resultJson(d).text;
    assert.ok(!JSON.stringify(d).includes(secretValue), 'secret value redacted');
    assert.ok(!JSON.stringify(d).includes('mqtt PASSWORD 9'), 'password value redacted');
    assert.match(text, /TZ=Europe\/Berlin/, 'non-secret value shown');
    const w = resultJson(await ok('set_dotenv', { text: `${text.trimEnd()}\nE2E_ADDED=1\n` }));
    assert.ok(w.kept_secret_keys.includes('SCRYPTED_CLUSTER_SECRET'));
    const rawAfter = (await host.state()).dotenv;
    assert.ok(rawAfter.includes(secretLine), 'the secret survived the read-modify-write round trip');
    assert.ok(rawAfter.includes('MQTT_PASSWORD="mqtt PASSWORD 9"'));
    assert.match(rawAfter, /^E2E_ADDED=1$/m);
    await invalidArguments('set_dotenv', {});
  });

  test('restart_server answers before the deferred restart runs', async () => {
    const before = (await host.calls()).length;
    const r = await ok('restart_server', {});
    const answeredAt = Date.now();
    assert.equal(r.structuredContent.status, 'scheduled');
    const callsNow = (await host.calls()).slice(before);
    assert.equal(callsMatching(callsNow, /^service-control\.restart$/).length, 0, 'not restarted yet when the answer arrived');
    const ran = await waitFor(async () => callsMatching((await host.calls()).slice(before), /^service-control\.restart$/)[0], { what: 'the restart', timeoutMs: 10_000 });
    assert.ok(ran.realAt >= answeredAt, 'restart ran after the answer');
  });
});

describe('network and cluster', () => {
  test('set_cors says memory-only; get_cors reads it back; unknown ids refused', async () => {
    const r = await ok('set_cors', { id: '@scrypted/hue', origins: ['https://e2e.example.com'] });
    assert.match(resultText(r), /memory/i);
    assert.equal(r.structuredContent.persisted, false);
    assert.ok(JSON.stringify((await host.state()).cors).includes('https://e2e.example.com'), 'set in the simulated host');
    const g = resultJson(await ok('get_cors', { id: '@scrypted/hue' }));
    assert.deepEqual(g.origins, ['https://e2e.example.com']);
    await fails('get_cors', { id: 'no-such-thing' });
    await invalidArguments('set_cors', { id: '@scrypted/hue', origins: 'https://x' });
  });

  test('local addresses round trip; cluster workers listed', async () => {
    await ok('set_local_addresses', { addresses: ['192.168.1.10'] });
    assert.deepEqual((await host.state()).localAddresses, ['192.168.1.10']);
    assert.deepEqual(resultJson(await ok('get_local_addresses', {})).addresses, ['192.168.1.10']);
    assert.deepEqual((await host.state()).clusterWorkers, {}, 'the demo host is not a cluster server');
    const w = resultJson(await ok('list_cluster_workers', {}));
    assert.deepEqual([w.workers, w.count, w.cluster_mode], [[], 0, false]);
    assert.match(w.message, /not running in cluster-server mode/);
    assert.deepEqual(tool('list_cluster_workers').inputSchema, { type: 'object', additionalProperties: false }, 'a no-argument tool says so');
    await invalidArguments('list_cluster_workers', { bogus: 1 });
    await invalidArguments('set_local_addresses', { addresses: 'not-a-list' });
  });
});

describe('plugins', () => {
  test('list_plugins lists plugins with versions; info; self-protection', async () => {
    const plugins = resultJson(await ok('list_plugins', {})).plugins;
    const demo = (await host.state()).plugins;
    assert.deepEqual(plugins.map((p) => p.plugin_id).sort(), demo.map((p) => p.pluginId).sort(), 'exactly the ScryptedPlugin devices');
    for (const p of plugins) assert.equal(p.version, demo.find((d) => d.pluginId === p.plugin_id).version);
    const info = resultJson(await ok('get_plugin_info', { plugin_id: '@scrypted/hue' }));
    assert.equal(info.pid, demo.find((d) => d.pluginId === '@scrypted/hue').pid);
    await fails('get_plugin_info', { plugin_id: '@scrypted/no-such-plugin' }, /^No installed plugin '@scrypted\/no-such-plugin'/);

    const ownId = demo.find((d) => d.pluginId === OWN_PLUGIN).id;
    const own = await fails('get_storage', { id: ownId });
    for (const v of Object.values((await host.state()).pluginStorage)) {
      if (typeof v === 'string' && v.length > 16) assert.ok(!JSON.stringify(own).includes(v.slice(0, 40)), 'no own storage value leaked');
    }
    await fails('set_storage', { id: ownId, storage: {} });
    await fails('kill_plugin', { plugin_id: OWN_PLUGIN });
    const hue = await ok('get_storage', { id: demo.find((d) => d.pluginId === '@scrypted/hue').id });
    assert.ok(!JSON.stringify(hue).includes('hue-secret-token-0000'), 'secret-looking storage values redacted');
  });

  test('update_plugins reports what Scrypted changed, the deprecated plugin it removed included', async () => {
    const before = (await host.state()).plugins;
    const outdated = before.filter((p) => p.version !== p.latest && !p.deprecated).map((p) => p.pluginId).sort();
    const deprecated = before.filter((p) => p.deprecated).map((p) => p.pluginId).sort();
    assert.ok(outdated.length > 0 && deprecated.length > 0, 'the demo has updates and a deprecated plugin');
    assert.equal(before.find((p) => p.pluginId === OWN_PLUGIN).latest, before.find((p) => p.pluginId === OWN_PLUGIN).version,
      'this plugin is current in the demo: the update runs at once');
    const out = resultJson(await ok('update_plugins', {}));
    assert.equal(out.status, 'updated');
    assert.deepEqual(out.updated.map((c) => c.plugin_id).sort(), outdated);
    assert.deepEqual(out.removed.map((c) => c.plugin_id).sort(), deprecated);
    const after = (await host.state()).plugins;
    for (const id of deprecated) assert.ok(!after.some((p) => p.pluginId === id), `${id} is gone from Scrypted`);
    for (const c of out.updated) assert.equal(after.find((p) => p.pluginId === c.plugin_id).version, c.after);
  });
});

describe('backup', () => {
  test('create_backup embeds the backup; its sha256 matches the summary', async () => {
    const r = await ok('create_backup', {});
    const res = r.content.find((c) => c.type === 'resource');
    assert.ok(res?.resource?.blob, 'an embedded resource with a blob');
    assert.equal(res.resource.mimeType, 'application/zip');
    const bytes = Buffer.from(res.resource.blob, 'base64');
    const sc = r.structuredContent;
    assert.equal(sc.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(sc.bytes, bytes.length);
    assert.equal(sc.uri, res.resource.uri);
    assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'a zip');
  });

  test('restore_backup without elicitation support is refused, nothing restored', async () => {
    const before = (await host.calls()).length;
    await fails('restore_backup', { confirm: 'RESTORE FROM BACKUP', chunk_base64: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', chunk_index: 0, total_chunks: 1 }, /cannot show a confirmation dialog \(it did not declare the elicitation capability\)/);
    await fails('restore_backup', { confirm: 'yes please', chunk_base64: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', chunk_index: 0, total_chunks: 1 }, /RESTORE FROM BACKUP/);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal((await host.calls()).slice(before).filter((c) => /restore/i.test(c.method)).length, 0);
    assert.equal((await host.state()).restoredBackups.length, 0);
  });
});

describe('inspector-cli 1.0.3', () => {
  let token;
  before(async () => {
    token = (await obtainTokens(host, cookie)).tokens.access_token;
  });

  test('tools/list through inspector-cli lists the 41 tools', async () => {
    const r = await inspector(host.mcpUrl, token, ['--method', 'tools/list']);
    assert.equal(r.code, 0, r.stderr);
    // inspector-cli (like other simple clients) asks for one page and never follows
    // nextCursor, so the whole catalogue must fit in the first page.
    assert.equal(r.json.nextCursor, undefined, `the first tools/list page must hold every tool: got ${r.json.tools.length} and a nextCursor`);
    assert.deepEqual(r.json.tools.map((t) => t.name).sort(), [...ALL].sort());
  });

  test('without a token inspector-cli fails to connect', async () => {
    const r = await inspector(host.mcpUrl, null, ['--method', 'tools/list']);
    assert.notEqual(r.code, 0);
  });

  test('restore_backup through inspector-cli (no elicitation) is refused cleanly, nothing restored', async () => {
    const before = (await host.calls()).length;
    const r = await inspector(host.mcpUrl, token, [
      '--method', 'tools/call', '--tool-name', 'restore_backup',
      '--tool-arg', 'confirm=RESTORE FROM BACKUP', 'chunk_base64=UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', 'chunk_index=0', 'total_chunks=1',
    ]);
    assert.equal(r.code, 0, `a JSON-RPC result, not a crash: ${r.stderr}`);
    assert.equal(r.json.isError, true);
    assert.match(JSON.stringify(r.json.content), /elicitation/i);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(callsMatching((await host.calls()).slice(before), /restore/i).length, 0, 'nothing restored');
    assert.equal((await host.state()).restoredBackups.length, 0);
  });
});
