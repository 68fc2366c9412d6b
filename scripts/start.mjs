#!/usr/bin/env node
// npm start — build if needed (setup first on a fresh machine), then run the dev host on
// 127.0.0.1:11080 with demo data. Prints the MCP URL, the login URL, the demo credentials and
// a ready `claude mcp add` line. Extra arguments go to the dev host (e.g. `npm start -- --port 0`).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensureBuilt } from '../js-shim/build.mjs';
import { ROOT } from './lib.mjs';

try {
  await ensureBuilt({ variants: ['release'] });
} catch (e) {
  console.error(`npm start: build failed: ${e.message}`);
  process.exit(1);
}
const args = process.argv.slice(2);
if (!args.some((a) => a === '--port' || a.startsWith('--port='))) args.push('--port', '11080');
args.push('--demo-events');
const child = spawn(process.execPath, [path.join(ROOT, 'js-shim/dev/server.mjs'), ...args], { stdio: 'inherit', cwd: ROOT });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
