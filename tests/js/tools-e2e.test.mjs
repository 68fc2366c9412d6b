// The tool catalogue end to end with the SDK client against the production build: the dev
// host's simulated components + the shim + the wasm agree. (The Rust tests cover each
// tool's logic; this proves the wiring.) Also inspector-cli 1.0.3.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startDevHost, waitFor } from './helpers/devhost.mjs';
import { login, connectSdkClient, obtainTokens } from './helpers/oauth.mjs';
import { resultJson, resultText, callsMatching } from './helpers/tools.mjs';
import { inspector } from './helpers/inspector.mjs';

const TOOLS = {
  plugins: ['list_plugins', 'get_plugin_info', 'reload_plugin', 'kill_plugin', 'install_plugin', 'update_plugins', 'npm_info', 'rename_device_id', 'set_mixins', 'get_storage', 'set_storage', 'get_id_for_native_id', 'disconnect_clients', 'clear_console'],
  devices: ['list_devices', 'get_device', 'call_device_method'],
  logs: ['get_logs', 'clear_logs', 'list_alerts', 'remove_alert', 'clear_alerts'],
  server: ['get_server_info', 'restart_server', 'update_server', 'get_dotenv', 'set_dotenv'],
  users: ['list_users', 'add_user', 'remove_user'],
  network: ['get_local_addresses', 'set_local_addresses', 'get_external_addresses', 'set_external_addresses', 'get_cors', 'set_cors'],
  cluster: ['list_cluster_workers'],
  backup: ['create_backup', 'restore_backup'],
};
const ALL = Object.values(TOOLS).flat();
const READ_ONLY = new Set(ALL.filter((n) => /^(get_|list_|npm_info$)/.test(n)));
const DESTRUCTIVE = ['restore_backup', 'remove_user', 'clear_logs', 'clear_alerts', 'remove_alert', 'kill_plugin', 'set_storage', 'set_dotenv', 'restart_server', 'update_server'];

let host;
let client;
let tools;
const OWN_PLUGIN = 'scrypted-mcp';

before(async () => {
  host = await startDevHost();
  const cookie = await login(host.baseUrl, host.username, host.password);
  ({ client } = await connectSdkClient(host.mcpUrl, cookie, { name: 'tools-e2e' }));
  tools = (await client.listTools()).tools;
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
/** JSON-RPC -32602 for arguments that do not fit the schema. */
async function invalidParams(name, args) {
  await assert.rejects(call(name, args), (e) => e.code === -32602, `${name} ${JSON.stringify(args)} → -32602`);
}
const tool = (name) => tools.find((t) => t.name === name);

describe('tools/list', () => {
  test('lists exactly the 39 tools with annotations and object schemas', async () => {
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
      assert.equal(a.readOnlyHint, READ_ONLY.has(t.name), `${t.name}: readOnlyHint`);
      if (a.readOnlyHint) assert.equal(a.destructiveHint, false, `${t.name}: read-only tools are not destructive`);
    }
    for (const n of DESTRUCTIVE) assert.equal(tool(n).annotations.destructiveHint, true, `${n}: destructiveHint`);
    assert.match(tool('clear_logs').description, /alert/i, 'clear_logs says it also clears alerts');
    assert.match(tool('set_cors').description, /memory/i, 'set_cors says it is memory-only');
    assert.match(tool('create_backup').description, /secret/i, 'create_backup warns that a backup holds secrets');
  });
});

describe('devices', () => {
  test('list_devices filters; get_device; call_device_method turnOn changes the state', async () => {
    const all = resultJson(await ok('list_devices', {}));
    const list = all.devices;
    assert.ok(Array.isArray(list) && list.length >= 4, 'demo devices listed');
    const lights = resultJson(await ok('list_devices', { interface: 'OnOff' })).devices;
    assert.ok(lights.length >= 1 && lights.length < list.length, 'interface filter narrows');
    for (const d of lights) assert.ok(d.interfaces.includes('OnOff'));
    const byName = resultJson(await ok('list_devices', { name: lights[0].name.slice(0, 4) })).devices;
    assert.ok(byName.some((d) => d.id === lights[0].id), 'name substring filter');

    const id = lights[0].id;
    const before = resultJson(await ok('get_device', { id }));
    const stateOn = async () => (await host.state()).devices.find((d) => d.id === id).state.on;
    await ok('call_device_method', { id, method: 'turnOff', args: [] });
    assert.equal(await stateOn(), false, 'turnOff reached the simulated device');
    await ok('call_device_method', { id, method: 'turnOn', args: [] });
    assert.equal(await stateOn(), true, 'turnOn reached the simulated device');
    const after = resultJson(await ok('get_device', { id }));
    assert.equal(JSON.stringify(after).includes('"on"'), true);
    assert.notDeepEqual(before, undefined);
    await fails('get_device', { id: 'no-such-device' }, /not found|no device|unknown/i);
    await fails('call_device_method', { id, method: 'noSuchMethod', args: [] });
  });
});

describe('logs and alerts', () => {
  test('get_logs filters; clear_logs also clears alerts', async () => {
    const all = resultJson(await ok('get_logs', {}));
    const entries = all.logs ?? all.entries;
    assert.ok(entries.length > 0, 'demo logs');
    const errors = resultJson(await ok('get_logs', { level: 'error' }));
    const errEntries = errors.logs ?? errors.entries;
    assert.ok(errEntries.length < entries.length, 'level filter narrows');
    for (const e of errEntries) assert.equal(e.level, 'e'.length ? e.level : '', 'level');
    assert.ok(errEntries.every((e) => /^e/i.test(e.level)), 'only error entries');
    const alerts = resultJson(await ok('list_alerts', {}));
    assert.ok((alerts.alerts ?? []).length > 0, 'demo alerts exist before clear_logs');
    await ok('clear_logs', {});
    const after = resultJson(await ok('get_logs', {}));
    assert.equal((after.logs ?? after.entries).length, 0, 'logs cleared');
    const alertsAfter = resultJson(await ok('list_alerts', {}));
    assert.equal((alertsAfter.alerts ?? []).length, 0, 'alerts cleared with the logs');
    await fails('remove_alert', { id: 'no-such-alert' });
  });
});

describe('users', () => {
  test('add_user / remove_user round trip; removing an unknown user fails', async () => {
    const before = resultJson(await ok('list_users', {})).users;
    assert.ok(before.some((u) => u.username === 'admin'));
    for (const u of before) {
      assert.equal(u.password, undefined, 'no password hashes');
      assert.equal(u.token, undefined, 'no user tokens');
    }
    await ok('add_user', { username: 'e2e-user', password: 'pw-123456' });
    const mid = resultJson(await ok('list_users', {})).users;
    assert.ok(mid.some((u) => u.username === 'e2e-user'), 'user added');
    await ok('remove_user', { username: 'e2e-user' });
    const after = resultJson(await ok('list_users', {})).users;
    assert.ok(!after.some((u) => u.username === 'e2e-user'), 'user removed');
    await fails('remove_user', { username: 'no-such-user' });
    await invalidParams('add_user', { username: 'x' });
  });
});

describe('server', () => {
  test('get_dotenv redacts secrets; set_dotenv round trip keeps them', async () => {
    const d = resultJson(await ok('get_dotenv', {}));
    const text = d.text ?? d.dotenv ?? d.content;
    assert.equal(typeof text, 'string');
    const s = await host.state();
    const raw = JSON.stringify(s).match(/"(?:dotenv|dotEnv)"\s*:\s*"((?:[^"\\]|\\.)*)"/)?.[1];
    assert.ok(raw, 'the dev host state exposes the .env text');
    const rawText = JSON.parse(`"${raw}"`);
    const secretLine = rawText.split('\n').find((l) => /(TOKEN|SECRET|PASSWORD|KEY)=/i.test(l));
    assert.ok(secretLine, 'demo .env has a secret-looking line');
    const secretValue = secretLine.split('=').slice(1).join('=');
    assert.ok(!text.includes(secretValue), 'secret value redacted');
    // Read-modify-write: add a line, send the redacted text back.
    await ok('set_dotenv', { text: `${text.trimEnd()}\nE2E_ADDED=1\n` });
    const after = await host.state();
    const rawAfter = JSON.parse(`"${JSON.stringify(after).match(/"(?:dotenv|dotEnv)"\s*:\s*"((?:[^"\\]|\\.)*)"/)[1]}"`);
    assert.ok(rawAfter.includes(secretLine), 'the secret survived the round trip');
    assert.match(rawAfter, /E2E_ADDED=1/);
  });

  test('restart_server answers before the deferred restart runs', async () => {
    const before = (await host.calls()).length;
    const r = await ok('restart_server', {});
    const answeredAt = Date.now();
    const callsNow = (await host.calls()).slice(before);
    assert.equal(callsMatching(callsNow, /^service-control\.restart$/).length, 0, 'not restarted yet when the answer arrived');
    const ran = await waitFor(async () => callsMatching((await host.calls()).slice(before), /^service-control\.restart$/)[0], { what: 'the restart', timeoutMs: 10_000 });
    assert.ok(ran.realAt >= answeredAt, 'restart ran after the answer');
    assert.match(resultText(r), /restart/i);
  });
});

describe('network', () => {
  test('set_cors says memory-only; get_cors reads it back', async () => {
    const r = await ok('set_cors', { id: host.info.pluginDeviceId ?? OWN_PLUGIN, origins: ['https://e2e.example.com'] });
    assert.match(resultText(r), /memory/i);
    const g = resultJson(await ok('get_cors', { id: host.info.pluginDeviceId ?? OWN_PLUGIN }));
    assert.ok(JSON.stringify(g).includes('https://e2e.example.com'));
  });
});

describe('plugins', () => {
  test('list_plugins lists plugins with versions; get_storage on our own plugin is refused', async () => {
    const p = resultJson(await ok('list_plugins', {}));
    const plugins = p.plugins;
    assert.ok(plugins.length >= 2);
    assert.ok(plugins.every((x) => x.version), 'each with its version');
    const ownStorage = await call('get_storage', { id: OWN_PLUGIN });
    assert.equal(ownStorage.isError, true, 'own storage refused');
    const storage = await host.pluginStorage();
    for (const v of Object.values(storage ?? {})) {
      if (typeof v === 'string' && v.length > 20) assert.ok(!JSON.stringify(ownStorage).includes(v), 'no own storage value leaked');
    }
    await fails('kill_plugin', { pluginId: OWN_PLUGIN });
    await fails('get_plugin_info', { pluginId: '@scrypted/no-such-plugin' }, /not found|unknown|no plugin/i);
  });
});

describe('backup', () => {
  test('create_backup embeds the backup; its sha256 matches the summary', async () => {
    const r = await ok('create_backup', {});
    const res = r.content.find((c) => c.type === 'resource');
    assert.ok(res?.resource?.blob, 'an embedded resource with a blob');
    const bytes = Buffer.from(res.resource.blob, 'base64');
    const sc = r.structuredContent;
    const sha = createHash('sha256').update(bytes).digest('hex');
    assert.equal(sc.sha256, sha);
    assert.equal(sc.bytes ?? sc.size ?? sc.byteLength, bytes.length);
    assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'a zip');
  });
});

describe('inspector-cli 1.0.3', () => {
  let token;
  before(async () => {
    const cookie = await login(host.baseUrl, host.username, host.password);
    token = (await obtainTokens(host, cookie)).tokens.access_token;
  });

  test('tools/list through inspector-cli lists the 39 tools', async () => {
    const r = await inspector(host.mcpUrl, token, ['--method', 'tools/list']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.tools.map((t) => t.name).sort(), [...ALL].sort());
  });

  test('without a token inspector-cli fails to connect', async () => {
    const r = await inspector(host.mcpUrl, null, ['--method', 'tools/list']);
    assert.notEqual(r.code, 0);
  });

  test('restore_backup through inspector-cli (no elicitation) is refused cleanly, nothing restored', async () => {
    const before = (await host.calls()).length;
    const r = await inspector(host.mcpUrl, token, ['--method', 'tools/call', '--tool-name', 'restore_backup', '--tool-arg', 'confirm=RESTORE FROM BACKUP', '--tool-arg', 'data=UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==']);
    assert.equal(r.code, 0, `a JSON-RPC result, not a crash: ${r.stderr}`);
    assert.equal(r.json.isError, true);
    assert.match(JSON.stringify(r.json.content), /elicitation|confirm/i);
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(callsMatching((await host.calls()).slice(before), /restore/i).length, 0, 'nothing restored');
  });
});
