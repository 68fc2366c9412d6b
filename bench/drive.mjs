// Driving a target with bench/load.mjs and reading a process's threads: shared by run.mjs and
// worker.mjs, so both send the same requests and count CPU the same way.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { POINTS } from './points.mjs';

const LOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load.mjs');

/** Runs a node script to completion; resolves with its stdout. */
export function runNode(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args[0]} failed (${code}): ${err}${out}`))));
  });
}

/**
 * One bench/load.mjs run of `point` against an MCP endpoint (`url`) or a floor (`raw`);
 * resolves with its JSON figures. The floor gets the very request ours gets (bearer, MCP
 * headers, body with _meta): on a real host its bearer is Scrypted's own check and its bytes
 * cross to the plugin, the host's cost of this request (issue 12: 0.89× the floor's req/s
 * with them, c=16); any 200 counts as its answer.
 */
export async function loadPoint({ url, raw, token, point, concurrency, duration, warmup }) {
  const target = raw
    ? ['--raw', raw, '--any200', ...(token ? ['--token', token] : [])]
    : [url, '--token', token];
  const common = ['--concurrency', String(concurrency), '--duration', String(duration), '--warmup', String(warmup), '--json'];
  return JSON.parse((await runNode([LOAD, ...target, ...POINTS[point].args, ...common])).trim().split('\n').pop());
}

/** Each live thread of `pid`: its name and CPU time so far (ns, its schedstat), by thread id. */
export function threadTimes(pid) {
  const now = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      now.set(tid, { name, ns });
    } catch { /* the thread ended while read */ }
  }
  return now;
}
