// Runs @modelcontextprotocol/inspector-cli 1.0.3 non-interactively (docs/reference/mcp-protocol.md §4).
// Its bug: it resolves its own package.json as `../package.json` relative to the *current
// directory*, so it runs with cwd = tests/ (whose parent, the project root, has one).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from './devhost.mjs';

export function inspectorEntry() {
  const require = createRequire(path.join(ROOT, 'package.json'));
  // The real CLI; the bin wrapper only prints a deprecation notice and spawns this with --cli.
  return require.resolve('@modelcontextprotocol/inspector-cli/build/index.js');
}

/** Runs the CLI; resolves {code, stdout, stderr, json} (json = parsed stdout when it is JSON). */
export function inspector(url, token, args, { timeoutMs = 30_000 } = {}) {
  const entry = inspectorEntry();
  const argv = [entry, url, '--transport', 'http', ...(token ? ['--header', `Authorization: Bearer ${token}`] : []), ...args];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: path.join(ROOT, 'tests'), timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      let json;
      try {
        json = JSON.parse(stdout);
      } catch {}
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr, json });
    });
  });
}
