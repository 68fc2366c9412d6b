// bench/footprint.mjs reads callgrind's `--dump-instr=yes` output as valgrind's "Callgrind
// Format" defines it (cost lines `<address> <line> <Ir>`; an address absolute in hex, or
// relative to the one before as +n / -n in decimal, or * for the same; `(n) name` name
// compression; the line after `calls=` the callee's inclusive cost) against node's
// `--perf-basic-prof` map (`<start> <size> <name>` in hex, a later entry for the same start
// replacing the earlier one).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callers, footprint } from '../../bench/footprint.mjs';

const MAP = [
  '1000 100 JS:wasm-function[7]-7-liftoff',
  '1000 200 JS:scrypted_mcp::a::h0123456789abcdef-7-turbofan',
  '2000 80 JS:*handler /p/main.nodejs.js:1:1',
  '3000 40 Builtin:CallFunction',
  '4000 40 JS:wasm-to-js:ii:-scrypted_mcp::f-3-turbofan',
].join('\n');

const DUMP = `# callgrind format
positions: instr line
events: Ir
summary: 999

ob=(1) /usr/bin/node
fn=(1) v8::internal::Something
0x3000 0 6
0x7000 0 50
ob=(2) ???
fn=(2) 0x1000
0x1000 0 10
+4 0 10
+64 0 3
* 0 2
-4 0 1
cob=(3) /usr/lib/libc.so.6
cfn=(3) memcpy
calls=1 0x90
+8 0 777
+2 0 4
ob=(3)
0x2000 0 9
ob=(4)
0x2010 0 4
+64 0 4
0x4000 0 2
0x9000 0 5
ob=/usr/lib/libz.so
0x1000 0 11
`;

test('the distinct 64-byte lines and the instructions per call of each JIT code object the window ran', () => {
  const { byKind, functions } = footprint(DUMP, MAP, 2);
  assert.deepEqual(functions, [
    // 0x1000 and 0x1004 are one line, 0x1044, 0x1040 and 0x104a the next; 0x1048, after
    // calls=, is the callee's inclusive cost and not counted, yet the address after it is
    // relative to it. The later map entry at 0x1000 names the code.
    { name: 'scrypted_mcp::a-7-turbofan', kind: 'wasm turbofan', bytes: 128, irPerCall: 15 },
    // ob=(4) was never named in this dump (callgrind leaves a name it gave in an earlier dump
    // undefined): counted. 0x2010 and 0x2050 are two lines.
    { name: '*handler /p/main.nodejs.js:1:1', kind: 'JS', bytes: 128, irPerCall: 4 },
    // A builtin, embedded in node's own binary (ob 1), at its address in the map.
    { name: 'Builtin:CallFunction', kind: 'Builtin', bytes: 64, irPerCall: 3 },
    { name: 'wasm-to-js:ii:-scrypted_mcp::f-3-turbofan', kind: 'wrapper', bytes: 64, irPerCall: 1 },
  ]);
  // node's C++ (0x7000, in no code object of the map), 0x9000 likewise, and the shared
  // libraries (libc, ob 3, named by cob=; libz, named without compression), whose offsets
  // 0x2000 and 0x1000 fall inside code objects of the map, are not in it.
  assert.deepEqual(byKind, {
    'wasm turbofan': { bytes: 128, irPerCall: 15 },
    JS: { bytes: 128, irPerCall: 4 },
    Builtin: { bytes: 64, irPerCall: 3 },
    wrapper: { bytes: 64, irPerCall: 1 },
  });
});

test('a Liftoff function counts as wasm liftoff; an empty window runs nothing', () => {
  const dump = 'ob=(2) ???\n0x1000 0 8\n';
  assert.deepEqual(footprint(dump, '1000 100 JS:wasm-function[7]-7-liftoff', 4).byKind, { 'wasm liftoff': { bytes: 64, irPerCall: 2 } });
  assert.deepEqual(footprint('summary: 0\n', MAP, 1), { byKind: {}, functions: [] });
});

test('the callers of the code a name matches: calls and inclusive instructions per call, by the call site\'s code', () => {
  // fn 5 was entered at an address in no code object (a jump table slot) and ran
  // scrypted_mcp::a: its callers are a's. fn 9 ran nothing that matches.
  const dump = `positions: instr line
events: Ir
ob=(2) ???
fn=(5) 0x5000
0x5000 0 1
0x1000 0 20
fn=(6) 0x2000
0x2000 0 3
cfn=(5)
calls=4 0x5000
+16 0 84
cfn=(9) 0x9000
calls=1 0x9000
+1 0 5
fn=(7)
0x4000 0 1
cfn=(5)
calls=2 0x5000
+4 0 42
cfn=(5)
calls=2 0x5000
0x2030 0 10
fn=(9)
0x9000 0 7
`;
  assert.deepEqual(callers(dump, MAP, 2, /scrypted_mcp::a::/), [
    { caller: '*handler /p/main.nodejs.js:1:1', callsPerCall: 3, irPerCall: 47 },
    { caller: 'wasm-to-js:ii:-scrypted_mcp::f-3-turbofan', callsPerCall: 1, irPerCall: 21 },
  ]);
  assert.deepEqual(callers(dump, MAP, 2, /no such code/), []);
  // The call sites' lines are not the caller's own cost.
  assert.deepEqual(footprint(dump, MAP, 1).byKind.JS, { bytes: 64, irPerCall: 3 });
});
