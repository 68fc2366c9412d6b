// The audit trail through the real shim and host.js, in the dev host: a tool call's row is
// in the plugin volume's file (SCRYPTED_PLUGIN_VOLUME, docs/reference/scrypted-host.md §5)
// by the time its answer arrives, plugin storage (which Scrypted ships whole on every write)
// is not written at all, the trail outlives a plugin reload, and an earlier version's trail
// in plugin storage is moved into the volume on update. The trail's rules (bound, fairness,
// torn lines, failed writes) are tested in tests/audit.rs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startLoggedIn, obtainTokens } from './helpers/oauth.mjs';
import { mcpRequest, initialize, req } from './helpers/mcp.mjs';

let host;
let token;
let trailFile;

before(async () => {
  const { host: started, cookie } = await startLoggedIn();
  host = started;
  token = (await obtainTokens(host, cookie)).tokens.access_token;
  trailFile = path.join(host.info.pluginVolume, 'audit.jsonl');
});
after(async () => {
  await host?.stop();
});

const fileRows = () => (fs.existsSync(trailFile) ? fs.readFileSync(trailFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

async function callTool(sessionId, name) {
  const r = await mcpRequest(host.mcpUrl, { token, sessionId, body: req('tools/call', { name, arguments: {} }) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.messages[0].result?.isError, false, r.text);
}

async function recentTools() {
  const { sessionId } = await initialize(host.mcpUrl, token);
  const r = await mcpRequest(host.mcpUrl, { token, sessionId, body: req('resources/read', { uri: 'scrypted-mcp://audit/recent' }) });
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.messages[0].result.contents[0].text).map((e) => e.tool);
}

test('a tool call writes no plugin storage; its row is in the volume when the answer arrives; a reload reads it back', async () => {
  const { sessionId } = await initialize(host.mcpUrl, token);
  await callTool(sessionId, 'get_server_info'); // the first call may make the audit hash key
  const before = (await host.state()).storageWrites;
  for (const name of ['get_server_info', 'list_plugins', 'get_recent_events']) {
    await callTool(sessionId, name);
    assert.equal(fileRows().at(-1)[3], name, 'the row is on disk before the answer arrived');
  }
  assert.equal((await host.state()).storageWrites, before, 'no storage write per call');
  assert.equal((await host.state()).pluginStorage['audit.log'], undefined);
  await host.reload();
  assert.deepEqual((await recentTools()).slice(0, 4), ['get_recent_events', 'list_plugins', 'get_server_info', 'get_server_info']);
});

test("an installed plugin's trail in storage moves into the volume on update, and the key goes", async () => {
  // What an earlier version left: the trail as one storage key, and no file.
  fs.rmSync(trailFile, { force: true });
  const stored = [
    [1700000000000, 'admin', 'old-client', 'restart_server', 'ab', 'ok', null],
    [1700000001000, 'admin', 'old-client', 'set_dotenv', 'cd', 'refused', 'decline', true],
  ];
  await host.setPluginStorage('audit.log', JSON.stringify(stored));
  await host.reload(); // the update: the new version starts over the same storage and volume
  assert.deepEqual(await recentTools(), ['set_dotenv', 'restart_server']);
  assert.equal((await host.state()).pluginStorage['audit.log'], undefined, 'the storage copy is removed');
  assert.deepEqual(fileRows(), stored, 'once the volume holds every row as it was');
  const { sessionId } = await initialize(host.mcpUrl, token);
  await callTool(sessionId, 'get_server_info');
  await host.reload();
  assert.deepEqual(await recentTools(), ['get_server_info', 'set_dotenv', 'restart_server']);
});
