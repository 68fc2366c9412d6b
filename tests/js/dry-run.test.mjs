// dry_run end to end: the SDK client → the real shim → the production wasm → the dev host.
// For each tool that replaces or removes state, a dry run answers the change, the host's
// state (read through the dev host's inspection endpoint) is byte-for-byte the same
// afterwards, and the real call then makes exactly the previewed change.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startLoggedIn, connectSdkClient } from './helpers/oauth.mjs';
import { resultText } from './helpers/tools.mjs';

let host;
let client;

before(async () => {
  let cookie;
  ({ host, cookie } = await startLoggedIn());
  ({ client } = await connectSdkClient(host.mcpUrl, cookie, { name: 'dry-run-e2e' }));
});
after(async () => {
  await client?.close().catch(() => {});
  await host?.stop();
});

/** The simulated server's state, each part as JSON, less what the plugin itself or a read
 *  may change: its own storage (the audit trail), bookkeeping counters, and loggers
 *  (getLogger creates them). */
async function serverState() {
  const s = await host.state();
  const devices = s.devices.map((d) => (d.pluginId === s.pluginId ? { ...d, storage: '(this plugin)' } : d));
  const parts = { ...s, devices };
  const keys = ['users', 'devices', 'plugins', 'alerts', 'logsCount', 'logs', 'env', 'dotenv', 'cors', 'externalAddresses', 'localAddresses', 'clusterWorkers', 'restoredBackups'];
  return Object.fromEntries(keys.map((k) => [k, JSON.stringify(parts[k])]));
}

/** The parts of two serverState()s that differ (by name, so a failure stays readable). */
function changedParts(a, b) {
  return Object.keys(a).filter((k) => a[k] !== b[k]);
}

async function ok(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.notEqual(r.isError, true, `${name} failed: ${resultText(r)}`);
  return r.structuredContent;
}

/** A dry run: its answer, after checking that the server's state did not move. */
async function dryRun(name, args) {
  const before = await serverState();
  const out = await ok(name, { ...args, dry_run: true });
  assert.equal(out.dry_run, true, `${name}: ${JSON.stringify(out)}`);
  assert.deepEqual(changedParts(before, await serverState()), [], `${name}: the dry run changed the server`);
  return out;
}

const device = async (id) => (await host.state()).devices.find((d) => d.id === id);

describe('each replacing tool previews exactly what its real call then does', () => {
  test('set_dotenv: a redacted line diff', async () => {
    const current = (await host.state()).dotenv;
    const text = (await ok('get_dotenv', {})).text
      .replace('TZ=Europe/Berlin', 'TZ=UTC')
      .replace('SCRYPTED_CLUSTER_SECRET=[REDACTED]', 'SCRYPTED_CLUSTER_SECRET=e2e-NEW-secret');
    const out = await dryRun('set_dotenv', { text });
    const lines = out.preview.diff.split('\n');
    assert.ok(lines.includes('-TZ=Europe/Berlin') && lines.includes('+TZ=UTC'), out.preview.diff);
    assert.ok(lines.includes('+SCRYPTED_CLUSTER_SECRET=[REDACTED, changed]'), out.preview.diff);
    assert.deepEqual(out.preview.changed_secret_keys, ['SCRYPTED_CLUSTER_SECRET']);
    assert.ok(!JSON.stringify(out).includes('e2e-NEW-secret') && !JSON.stringify(out).includes('cluster-SECRET'), 'no secret value in the preview');
    await ok('set_dotenv', { text });
    const written = current.replace('TZ=Europe/Berlin', 'TZ=UTC').replace(/^SCRYPTED_CLUSTER_SECRET=.*$/m, 'SCRYPTED_CLUSTER_SECRET=e2e-NEW-secret');
    assert.equal((await host.state()).dotenv, written);
  });

  test('set_storage: entries with values, secrets redacted', async () => {
    const storage = { ...(await ok('get_storage', { id: '12' })).storage, ip: '192.168.1.77', zone: 'porch', password: 'e2e-PW' };
    delete storage.username;
    const out = await dryRun('set_storage', { id: '12', storage });
    const byKey = Object.fromEntries(out.changes.map((c) => [c.key, c]));
    assert.deepEqual(byKey.ip, { key: 'ip', change: 'changed', before: '192.168.1.40', after: '192.168.1.77' });
    assert.deepEqual(byKey.zone, { key: 'zone', change: 'added', after: 'porch' });
    assert.deepEqual(byKey.username, { key: 'username', change: 'removed', before: 'admin' });
    assert.deepEqual(byKey.password, { key: 'password', change: 'changed', before: '[REDACTED]', after: '[REDACTED]' });
    await ok('set_storage', { id: '12', storage });
    assert.deepEqual((await device('12')).storage, { ip: '192.168.1.77', zone: 'porch', password: 'e2e-PW' });
  });

  test('set_mixins: the list it sends', async () => {
    const out = await dryRun('set_mixins', { id: '10', mixins: ['7'] });
    assert.deepEqual([out.before, out.after, out.added, out.removed], [[], ['7'], ['7'], []]);
    await ok('set_mixins', { id: '10', mixins: ['7'] });
    assert.deepEqual((await device('10')).mixins, out.after);
  });

  test('set_local_addresses, set_external_addresses, set_cors: entries added and removed', async () => {
    let out = await dryRun('set_local_addresses', { addresses: ['192.168.1.10', 'eth0'] });
    assert.deepEqual(out.added, ['192.168.1.10', 'eth0']);
    await ok('set_local_addresses', { addresses: ['192.168.1.10', 'eth0'] });
    assert.deepEqual((await host.state()).localAddresses, out.after);

    out = await dryRun('set_external_addresses', { id: '@scrypted/core', addresses: ['https://new.example.org'] });
    assert.deepEqual([out.added, out.removed], [['https://new.example.org'], ['https://scrypted.home.example.org']]);
    await ok('set_external_addresses', { id: '@scrypted/core', addresses: ['https://new.example.org'] });
    assert.deepEqual((await host.state()).externalAddresses['@scrypted/core'], out.after);

    out = await dryRun('set_cors', { id: '@scrypted/core', origins: [] });
    assert.deepEqual([out.added, out.removed, out.after], [[], ['https://dashboard.home.example.org'], []]);
    await ok('set_cors', { id: '@scrypted/core', origins: [] });
    assert.deepEqual((await host.state()).cors['@scrypted/core'], out.after);
  });

  test('clear_logs and clear_alerts: counts and ids', async () => {
    const s = await host.state();
    let out = await dryRun('clear_logs', { device_id: '13' });
    assert.equal(out.logs_removed, s.logs['/device/13']);
    assert.deepEqual(out.alert_ids, s.alerts.filter((a) => a.path.startsWith('/device/13')).map((a) => a._id));
    assert.ok(out.alert_ids.length > 0);
    await ok('clear_logs', { device_id: '13' });
    const after = await host.state();
    assert.equal(after.logsCount, s.logsCount - out.logs_removed);
    assert.deepEqual(after.alerts.map((a) => a._id), s.alerts.map((a) => a._id).filter((id) => !out.alert_ids.includes(id)));

    out = await dryRun('clear_alerts', {});
    assert.deepEqual(out.ids, after.alerts.map((a) => a._id));
    assert.equal(out.removed, after.alerts.length);
    await ok('clear_alerts', {});
    assert.deepEqual((await host.state()).alerts, []);
  });

  test('rename_device_id: old and new id', async () => {
    const out = await dryRun('rename_device_id', { id: '11', new_id: 'living-room-lamp' });
    assert.deepEqual([out.id, out.new_id, out.plugin_id], ['11', 'living-room-lamp', '@scrypted/hue']);
    await ok('rename_device_id', { id: '11', new_id: 'living-room-lamp' });
    assert.equal(await device('11'), undefined);
    assert.equal((await device('living-room-lamp')).name, 'Living Room Lamp');
  });

  test('remove_user: the account and its user device', async () => {
    const out = await dryRun('remove_user', { username: 'viewer' });
    assert.deepEqual([out.username, out.admin, out.removed, out.device_id, out.remaining], ['viewer', false, false, '20', 1]);
    await ok('remove_user', { username: 'viewer' });
    const s = await host.state();
    assert.deepEqual(s.users.map((u) => u.username), ['admin']);
    assert.equal(s.devices.find((d) => d.id === out.device_id), undefined);
  });
});

describe('an invalid dry run', () => {
  test('fails like the real call and changes nothing', async () => {
    const before = await serverState();
    for (const [name, args] of [['set_dotenv', { text: 'NEW_TOKEN=[REDACTED]\n' }], ['remove_user', { username: 'admin' }], ['clear_logs', { device_id: '999' }]]) {
      const dry = await client.callTool({ name, arguments: { ...args, dry_run: true } });
      const real = await client.callTool({ name, arguments: args });
      assert.equal(dry.isError, true, name);
      assert.deepEqual(dry.content, real.content, `${name}: the same failure`);
    }
    assert.deepEqual(changedParts(before, await serverState()), []);
  });

  test('is audited as a dry run', async () => {
    await ok('clear_alerts', { dry_run: true });
    const r = await client.readResource({ uri: 'scrypted-mcp://audit/recent' });
    const [latest] = JSON.parse(r.contents[0].text);
    assert.deepEqual([latest.tool, latest.outcome, latest.dry_run], ['clear_alerts', 'ok', true]);
  });
});
