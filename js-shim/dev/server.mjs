#!/usr/bin/env node
// node js-shim/dev/server.mjs [--port N] [--zip PATH] [--json] [--quiet] [--demo-events] [--restart-delay MS]
//
// Runs the dev host (devhost.mjs) on 127.0.0.1. With --json the first stdout line is
// {"pid","port","baseUrl","mcpUrl","loginUrl","username","password","viewer"}; logs go to
// stderr. --port 0 picks a free port. --demo-events (npm start) makes the demo sensors fire
// events on timers (events.mjs); tests fire theirs through /__devhost/event instead.
// --restart-delay: how long after the plugin's last deviceManager.requestRestart it is
// reloaded (Scrypted's 15 s by default; tests shorten it). Stops on SIGTERM/SIGINT.
import path from 'node:path';
import { DEFAULT_PORT, DEFAULT_ZIP, startDevHost } from './devhost.mjs';
import { startDemoEvents } from './events.mjs';

function parseArgs(argv) {
  const o = { port: DEFAULT_PORT, zip: DEFAULT_ZIP, json: false, quiet: false, demoEvents: false, restartDelayMs: 15_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--port' || a.startsWith('--port=')) o.port = Number(val());
    else if (a === '--zip' || a.startsWith('--zip=')) o.zip = path.resolve(val());
    else if (a === '--json') o.json = true;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--demo-events') o.demoEvents = true;
    else if (a === '--restart-delay' || a.startsWith('--restart-delay=')) o.restartDelayMs = Number(val());
    else if (a === '-h' || a === '--help') {
      console.log('usage: node js-shim/dev/server.mjs [--port N] [--zip PATH] [--json] [--quiet] [--demo-events] [--restart-delay MS]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error('--port must be 0..65535');
  if (!Number.isInteger(o.restartDelayMs) || o.restartDelayMs < 0) throw new Error('--restart-delay must be a whole number of milliseconds');
  return o;
}

function banner(info) {
  return [
    '',
    '  scrypted-mcp dev host (a Scrypted-like server with demo data)',
    '',
    `  MCP endpoint:  ${info.mcpUrl}`,
    `  Login:         ${info.loginUrl}   (${info.username} / ${info.password}; non-admin: ${info.viewer.username} / ${info.viewer.password})`,
    '',
    '  Add it to Claude Code:',
    `    claude mcp add --transport http scrypted ${info.mcpUrl}`,
    '  then /mcp → Authenticate, and log in as above when the browser asks.',
    '',
    '  The demo house: camera 12 answers snapshots; its motion sensor toggles every 20 s and',
    '  sensor 14\'s temperature drifts every 30 s (with --demo-events, as npm start runs it).',
    `  Fire one yourself: curl -X POST ${info.baseUrl}/__devhost/event -d '{"id":"10","property":"on","value":false}'`,
    '',
  ].join('\n');
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`server.mjs: ${e.message}`);
  process.exit(2);
}

let host;
try {
  host = await startDevHost({
    port: opts.port, zip: opts.zip, chdir: true, quiet: opts.quiet, restartDelayMs: opts.restartDelayMs,
  });
} catch (e) {
  console.error(`dev host failed to start: ${e.stack || e}`);
  process.exit(1);
}
if (opts.demoEvents) startDemoEvents(host.runtime);
const info = host.info();
if (opts.json) process.stdout.write(JSON.stringify(info) + '\n');
else console.log(banner(info));
if (!opts.quiet) console.error(`[devhost] plugin loaded from ${opts.zip} in ${host.loadMs.toFixed(1)} ms; listening on ${info.baseUrl}`);

const stop = async (sig) => {
  if (!opts.quiet) console.error(`[devhost] ${sig}: stopping`);
  const t = setTimeout(() => process.exit(0), 2000);
  t.unref();
  await host.close().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
