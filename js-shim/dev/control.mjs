// The dev host's loopback-only routes, for tests and demos (devhost.mjs sends every
// /__devhost/ request here; `host` is its DevHostServer):
//
//   GET  /__devhost/calls   [{seq, method, target?, args, at, realAt}] — every Scrypted API
//        call the plugin made, named "<component>.<method>" ("plugins.reload",
//        "service-control.restart", "backup.restore", "logger.clear" with target = logger
//        path, "device.turnOn" with target = device id, "systemManager.getSystemState",
//        "deviceManager.onDeviceEvent", ...), oldest first. Deferred actions appear when they
//        ran (their `at`). `at` is the plugin's clock (moved by /__devhost/clock), `realAt` wall time.
//   POST /__devhost/clock   {advanceMs} → {offsetMs, now}: moves the clock the wasm sees
//   GET  /__devhost/state   users (with passwords, aclIds, tokens), devices, plugins, alerts,
//        logsCount, env, dotenv, cors, externalAddresses, localAddresses, restoredBackups,
//        pluginStorage (this plugin's storage map), info.pluginVolume (its volume directory),
//        clockOffsetMs, ...
//   POST /__devhost/reset   demo data, calls, clock, plugin storage and volume back to the start; the
//        plugin is loaded afresh from the zip
//   POST /__devhost/reload  the plugin's worker restarts, as on a plugin reload or a server
//        restart (runtime.ts runPlugin): its open HTTP answers are cut, its listeners dropped,
//        and the plugin is loaded afresh from the zip; storage, data, clock and logins stay
//   POST /__devhost/storage  {key, value}: sets (value null: removes) one key of this plugin's
//        storage behind its back, as an earlier version of the plugin left it (read on reload)
//   POST /__devhost/network  {ipAddress?, networkInterfaces?}: what getComponent('SCRYPTED_IP_ADDRESS')
//        and os.networkInterfaces() answer the plugin; ipAddress null = no usable LAN address (§13)
//   GET  /__devhost/settings        the plugin's getSettings(), as Scrypted's Settings tab asks
//        (400 {error: <its message>} when it throws)
//   POST /__devhost/settings        {key, value} → the plugin's putSetting(key, value), as the tab
//        sends it: 200 {ok: true}, or 400 {error: <the plugin's message>} when it rejects
//
//   POST /__devhost/event   {id, property, value}: sets a device's state property as its plugin
//        would (state.ts setPluginDeviceState): {changed}; an event reaches the listeners when
//        the value differs from the current one. 400 for an unknown device.
//   GET  /__devhost/events  [{id, eventInterface, property, value}] — every event the server
//        dispatched to listeners, oldest first (listener counts are in /__devhost/state)
//   POST /__devhost/user    {username, action}: changes a user outside MCP, as an admin would in
//        Scrypted's UI: "remove" deletes core's user:<name> device (core then calls
//        users.removeUser), "demote" makes the user a non-admin through core's createDevice
//        (its user device's id becomes the aclId) → {username, exists, admin}
//   POST /__devhost/camera  {id, mode}: how that camera answers takePicture (media.mjs
//        CAMERA_MODES: jpeg, noise, native, png, fail, hang, slow) → {id, mode}
//   POST /__devhost/npm     {installMs}: how long installNpm takes from now on (20 ms at the
//        start; a big plugin over a slow link takes minutes) → {installMs}
import { PLUGIN_ID } from './demo.mjs';
import { JSON_LIMIT, readBody, sendJson } from './http.mjs';

/** The request's JSON body, or undefined after answering 400 with `usage`. */
async function jsonBody(req, res, usage) {
  try {
    return JSON.parse((await readBody(req, JSON_LIMIT)).toString('utf8') || '{}');
  } catch {
    sendJson(res, 400, { error: `body must be JSON ${usage}` });
    return undefined;
  }
}

export async function control(host, req, res, url) {
  const ra = req.socket.remoteAddress || '';
  if (!(ra === '127.0.0.1' || ra === '::1' || ra === '::ffff:127.0.0.1')) {
    req.resume();
    return sendJson(res, 403, { error: 'loopback only' });
  }
  const p = url.pathname;
  if (p === '/__devhost/calls' && req.method === 'GET') {
    req.resume();
    return sendJson(res, 200, host.runtime.calls);
  }
  if (p === '/__devhost/state' && req.method === 'GET') {
    req.resume();
    return sendJson(res, 200, { ...host.runtime.snapshot({ clockOffsetMs: host.clockOffsetMs }), info: host.info(), loadMs: host.loadMs, memory: process.memoryUsage() });
  }
  if (p === '/__devhost/clock' && req.method === 'POST') {
    const body = await jsonBody(req, res, '{advanceMs} or {setOffsetMs}');
    if (!body) return undefined;
    if (typeof body.setOffsetMs === 'number') host.clockOffsetMs = body.setOffsetMs;
    else if (typeof body.advanceMs === 'number' && Number.isFinite(body.advanceMs)) host.clockOffsetMs += body.advanceMs;
    else return sendJson(res, 400, { error: 'body must be JSON {advanceMs: number}' });
    return sendJson(res, 200, { offsetMs: host.clockOffsetMs, now: host.clock.now() });
  }
  if (p === '/__devhost/reset' && req.method === 'POST') {
    req.resume();
    host.runtime.reset();
    host.resetVolume();
    host.clockOffsetMs = 0;
    host.loginTokens.clear();
    await host.loadPlugin();
    return sendJson(res, 200, { ok: true });
  }
  if (p === '/__devhost/reload' && req.method === 'POST') {
    req.resume();
    await host.reloadPlugin();
    return sendJson(res, 200, { ok: true, loadMs: host.loadMs });
  }
  if (p === '/__devhost/storage' && req.method === 'POST') {
    const body = await jsonBody(req, res, '{key, value}');
    if (!body) return undefined;
    if (typeof body.key !== 'string' || !(typeof body.value === 'string' || body.value === null)) {
      return sendJson(res, 400, { error: 'body must be JSON {key: string, value: string | null}' });
    }
    // A new map, as Scrypted puts one in place when storage changes behind the plugin's back
    // (plugins.setStorage, then setNativeId in plugin-remote.ts); the plugin's own setItem
    // and removeItem edit the map in place (scrypted-host.md §5).
    const own = host.runtime.device(host.runtime.rootId(PLUGIN_ID));
    const storage = { ...own.storage };
    if (body.value === null) delete storage[body.key];
    else storage[body.key] = body.value;
    own.storage = storage;
    return sendJson(res, 200, { ok: true });
  }
  if (p === '/__devhost/network' && req.method === 'POST') {
    const body = await jsonBody(req, res, '{ipAddress?, networkInterfaces?}');
    if (!body) return undefined;
    const server = host.runtime.data.server;
    if ('ipAddress' in body) server.ipAddress = body.ipAddress ?? undefined;
    if (body.networkInterfaces) host.runtime.data.networkInterfaces = body.networkInterfaces;
    return sendJson(res, 200, { ipAddress: server.ipAddress ?? null, networkInterfaces: host.runtime.data.networkInterfaces });
  }
  if (p === '/__devhost/settings' && req.method === 'GET') {
    req.resume();
    try {
      return sendJson(res, 200, await host.plugin.instance.getSettings());
    } catch (e) {
      return sendJson(res, 400, { error: String(e?.message ?? e) });
    }
  }
  if (p === '/__devhost/settings' && req.method === 'POST') {
    const body = await jsonBody(req, res, '{key, value}');
    if (!body) return undefined;
    try {
      await host.plugin.instance.putSetting(body.key, body.value);
      return sendJson(res, 200, { ok: true });
    } catch (e) {
      return sendJson(res, 400, { error: String(e?.message ?? e) });
    }
  }
  if (p === '/__devhost/event' && req.method === 'POST') {
    const b = await jsonBody(req, res, '{id, property, value}');
    if (!b) return undefined;
    const d = host.runtime.device(String(b.id));
    if (!d || typeof b.property !== 'string' || !('value' in b)) {
      return sendJson(res, 400, { error: `needs {id, property, value} of a device (no device ${JSON.stringify(b.id)}?)` });
    }
    return sendJson(res, 200, { changed: host.runtime.setDeviceState(d, b.property, b.value) });
  }
  if (p === '/__devhost/events' && req.method === 'GET') {
    req.resume();
    return sendJson(res, 200, host.runtime.events.fired);
  }
  if (p === '/__devhost/user' && req.method === 'POST') {
    const b = await jsonBody(req, res, '{username, action: "remove" | "demote"}');
    if (!b) return undefined;
    const rt = host.runtime;
    const user = rt.findUser(String(b.username));
    if (!user || !['remove', 'demote'].includes(b.action)) {
      return sendJson(res, 400, { error: `needs {username, action: "remove" | "demote"} of an existing user (no user ${JSON.stringify(b.username)}?)` });
    }
    const device = rt.findDevice('@scrypted/core', `user:${user.username}`);
    if (b.action === 'remove') {
      if (device) rt.removeDevice(device.id);
      else rt.removeUser(user.username);
    } else {
      const provider = rt.findDevice('@scrypted/core', 'users');
      rt.coreCreateUser(provider?.id, { username: user.username, password: user.password, admin: false });
    }
    const now = rt.findUser(user.username);
    return sendJson(res, 200, { username: user.username, exists: !!now, admin: !!now && !now.aclId });
  }
  if (p === '/__devhost/camera' && req.method === 'POST') {
    const b = await jsonBody(req, res, '{id, mode}');
    if (!b) return undefined;
    try {
      host.runtime.setCameraMode(String(b.id), b.mode);
    } catch (e) {
      return sendJson(res, 400, { error: e.message });
    }
    return sendJson(res, 200, { id: String(b.id), mode: b.mode });
  }
  if (p === '/__devhost/npm' && req.method === 'POST') {
    const b = await jsonBody(req, res, '{installMs}');
    if (!b) return undefined;
    if (!Number.isInteger(b.installMs) || b.installMs < 0) return sendJson(res, 400, { error: 'installMs: a whole number of milliseconds, 0 or more' });
    host.runtime.data.npmInstallMs = b.installMs;
    return sendJson(res, 200, { installMs: b.installMs });
  }
  req.resume();
  return sendJson(res, 404, { error: `no such inspection route: ${req.method} ${p}` });
}
