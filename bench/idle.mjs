#!/usr/bin/env node
// What an idle gap before a call costs on this machine, by what the call does. Not a test.
// At c=1 on a real Scrypted a plugin's worker sleeps between two requests while the server
// and the load driver run; on a VM whose vCPU then idles, the next request costs more by the
// code and data it touches than by its instructions (docs/reference/scrypted-host.md §13,
// session z). Three calls of this process's own, each timed after the thread has slept
// (Atomics.wait) for each gap:
//
//   tight  a loop of arithmetic: many instructions, a few cache lines
//   data   reads and writes of 4,096 random 64-byte lines of an 8 MB array, --rounds times
//   code   --functions distinct small functions, each called once: the code spread wide
//
//   node bench/idle.mjs [--gaps 0,1,5] [--calls 400] [--loop 30000] [--rounds 4] [--functions 400]
//
// Prints, per gap in ms, each call's median µs over --calls, after 3,000 calls of each to
// let V8 optimise them. Where `tight` stays flat and the others grow with the gap, the
// footprint is what an idle gap costs (bench/alloc.mjs --time --idle MS shows it on a build).
import { commandLine } from '../scripts/lib.mjs';

const string = { type: 'string' };
const args = commandLine(import.meta.url, { gaps: string, calls: string, loop: string, rounds: string, functions: string }, ['calls', 'loop', 'rounds', 'functions']);
const GAPS = (args.gaps ?? '0,1,5').split(',').map(Number);
if (GAPS.some((g) => !(g >= 0))) {
  console.error(`bench/idle.mjs: --gaps must be numbers of ms >= 0 separated by commas, not "${args.gaps}"`);
  process.exit(2);
}
const CALLS = Number(args.calls ?? 400);
if (!(CALLS >= 1)) {
  console.error('bench/idle.mjs: --calls must be at least 1: the median is over that many calls');
  process.exit(2);
}
const LOOP = Number(args.loop ?? 30000);
const ROUNDS = Number(args.rounds ?? 4);
const FUNCTIONS = Number(args.functions ?? 400);

const sleeper = new Int32Array(new SharedArrayBuffer(4));
let sink = 0; // each call's result, kept where V8 cannot see it unused, so no call is optimised away

function tight() {
  let x = 1;
  for (let i = 0; i < LOOP; i++) x = (x * 31 + i) | 0;
  sink ^= x;
}

const array = new Int32Array((8 << 20) / 4);
const lines = Int32Array.from({ length: 4096 }, () => Math.floor((Math.random() * array.length) / 16) * 16);
function data() {
  let x = 0;
  for (let r = 0; r < ROUNDS; r++) for (const at of lines) x += array[at]++;
  sink ^= x;
}

// Distinct source text each, so V8 compiles each to code of its own.
const functions = Array.from({ length: FUNCTIONS }, (_, i) => new Function('x', `let y = x ^ ${i};
  for (let k = 0; k < 3; k++) { y = (y * ${(i % 97) + 3} + ${i}) | 0; if (y & ${1 << i % 20}) y ^= ${i * 7}; }
  return y;`));
function code() {
  let x = 1;
  for (const f of functions) x = f(x);
  sink ^= x;
}

const CALLS_BY_NAME = { tight, data, code };
for (const f of Object.values(CALLS_BY_NAME)) for (let i = 0; i < 3000; i++) f();

const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
for (const gap of GAPS) {
  const row = Object.entries(CALLS_BY_NAME).map(([name, f]) => {
    const us = [];
    for (let i = 0; i < CALLS; i++) {
      if (gap) Atomics.wait(sleeper, 0, 0, gap);
      const start = performance.now();
      f();
      us.push((performance.now() - start) * 1000);
    }
    return `${name} ${median(us).toFixed(1)}`;
  });
  console.log(`gap ${gap} ms: ${row.join('  ')} µs per call (median)`);
}
