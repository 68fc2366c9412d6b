// Spawns the dev host (js-shim/dev/server.mjs) on a free loopback port and talks to its
// loopback inspection routes. Every process started here is killed by PID in stop().
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PROD_ZIP = path.join(ROOT, 'dist', 'plugin.zip');
export const FIXTURE_ZIP = path.join(ROOT, 'dist', 'fixture', 'plugin.zip');
const SERVER = path.join(ROOT, 'js-shim', 'dev', 'server.mjs');

/** Fails with a clear message when a build output the suite needs is missing. */
export function requireFile(file) {
  if (!existsSync(file)) {
    throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first`);
  }
}

/**
 * Starts the dev host. Resolves with its JSON info line plus helpers.
 * @param {{zip?: string, args?: string[], env?: object, timeoutMs?: number}} opts
 */
export async function startDevHost(opts = {}) {
  requireFile(SERVER);
  const zip = opts.zip ?? PROD_ZIP;
  requireFile(zip);
  const args = [SERVER, '--port', '0', '--json', '--zip', zip, ...(opts.args ?? [])];
  const env = { ...process.env, ...(opts.env ?? {}) };
  // Tests of login behaviour must not inherit Scrypted's admin shortcuts.
  for (const k of ['SCRYPTED_ADMIN_USERNAME', 'SCRYPTED_ADMIN_ADDRESS', 'SCRYPTED_DEFAULT_AUTHENTICATION']) {
    delete env[k];
  }
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdoutRest = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`dev host did not print its JSON line in time.\nstderr:\n${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    let buf = '';
    const onData = (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      stdoutRest = buf.slice(nl + 1);
      child.stdout.on('data', (more) => {
        stdoutRest += more;
        if (stdoutRest.length > 200_000) stdoutRest = stdoutRest.slice(-100_000);
      });
      try {
        resolve(JSON.parse(buf.slice(0, nl)));
      } catch (e) {
        reject(new Error(`dev host's first line is not JSON: ${buf.slice(0, nl)}\n${stderr}`));
      }
    };
    child.stdout.on('data', onData);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`dev host exited early (${code ?? sig}).\nstderr:\n${stderr}`));
    });
  });
  const host = new DevHost(child, info, () => stderr, () => stdoutRest);
  return host;
}

export class DevHost {
  constructor(child, info, getStderr, getStdout) {
    this.child = child;
    this.info = info;
    this.pid = child.pid;
    this.baseUrl = info.baseUrl;
    this.mcpUrl = info.mcpUrl;
    this.loginUrl = info.loginUrl;
    this.username = info.username;
    this.password = info.password;
    /** `<base>/endpoint/scrypted-mcp/public` */
    this.publicBase = info.mcpUrl.replace(/\/mcp$/, '');
    this.stderr = getStderr;
    this.stdout = getStdout;
  }

  url(p) {
    return this.publicBase + p;
  }

  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {}
    }, 3000);
    await exited;
    clearTimeout(t);
  }

  async _json(p, init) {
    const r = await fetch(this.baseUrl + p, init);
    const text = await r.text();
    if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${p} → ${r.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }

  /** Host capability calls the plugin made, oldest first: [{method, args, at}, ...]. */
  async calls() {
    const j = await this._json('/__devhost/calls');
    return Array.isArray(j) ? j : (j.calls ?? []);
  }

  /** Deferred actions (restart/restore/...) as the dev host recorded them, if it lists them apart. */
  async deferred() {
    const j = await this._json('/__devhost/calls');
    return Array.isArray(j) ? [] : (j.deferred ?? []);
  }

  async state() {
    return this._json('/__devhost/state');
  }

  async reset() {
    return this._json('/__devhost/reset', { method: 'POST' });
  }

  /** Sets (null: removes) one key of the plugin's storage behind its back. */
  async setPluginStorage(key, value) {
    return this._json('/__devhost/storage', { method: 'POST', body: JSON.stringify({ key, value }), headers: { 'content-type': 'application/json' } });
  }

  /** Restarts the plugin's worker (a plugin reload or server restart): storage stays. */
  async reload() {
    return this._json('/__devhost/reload', { method: 'POST' });
  }

  /** Advances the clock the wasm sees. */
  async advanceClock(ms) {
    return this._json('/__devhost/clock', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceMs: ms }),
    });
  }

  /**
   * What the simulated server reports about its network: {ipAddress: null} = no usable LAN
   * address (getComponent('SCRYPTED_IP_ADDRESS') undefined); {networkInterfaces} = what
   * os.networkInterfaces() answers the plugin.
   */
  async network(body) {
    return this._json('/__devhost/network', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** The plugin's Settings tab, as Scrypted's UI gets it (getSettings through the shim). */
  async settings() {
    return this._json('/__devhost/settings');
  }

  /** putSetting through the shim, as the tab sends it: {status, error?}. */
  async putSetting(key, value) {
    const r = await fetch(this.baseUrl + '/__devhost/settings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key, value }),
    });
    return { status: r.status, ...(await r.json()) };
  }

  /** Removes ("remove") or demotes ("demote") a Scrypted user outside MCP: {username, exists, admin}. */
  async user(username, action) {
    return this._json('/__devhost/user', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, action }),
    });
  }

  /** How camera `id` answers takePicture from now on (js-shim/dev/media.mjs CAMERA_MODES). */
  async camera(id, mode) {
    return this._json('/__devhost/camera', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, mode }),
    });
  }

  /** Runs `fn` with camera `id` answering in `mode`, then puts it back to `jpeg`. */
  async withCamera(id, mode, fn) {
    await this.camera(id, mode);
    try {
      return await fn();
    } finally {
      await this.camera(id, 'jpeg');
    }
  }

  /** How long installNpm takes from now on (ms; 20 at the start). */
  async npmInstallMs(installMs) {
    return this._json('/__devhost/npm', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ installMs }),
    });
  }

  /** The plugin's own storage map as the dev host keeps it, wherever the state puts it. */
  async pluginStorage() {
    const s = await this.state();
    return findPluginStorage(s);
  }
}

/**
 * A DevHost-like view of `host` as reached at another origin (another host name for the same
 * server, or a proxy in front of it): the URLs a client there uses, which the issuer, the
 * PRM resource and token audiences follow.
 */
export function viewAt(host, origin) {
  const rebase = (u) => u.replace(host.baseUrl, origin);
  const publicBase = rebase(host.publicBase);
  return { ...host, info: host.info, baseUrl: origin, mcpUrl: rebase(host.mcpUrl), publicBase, url: (p) => publicBase + p };
}

/** Finds the plugin's storage map inside /__devhost/state (shape owned by the dev host). */
export function findPluginStorage(state) {
  if (!state || typeof state !== 'object') return null;
  for (const key of ['pluginStorage', 'storage', 'ownStorage']) {
    const v = state[key];
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (v['scrypted-mcp'] && typeof v['scrypted-mcp'] === 'object') return v['scrypted-mcp'];
      return v;
    }
  }
  if (state.plugin && typeof state.plugin === 'object' && state.plugin.storage) return state.plugin.storage;
  return null;
}

/** Waits until fn() returns truthy, polling. */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 25, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
