// The machine code a window of calls ran, by the code objects V8 names, and who called a
// piece of it: for bench/callgrind.mjs --footprint and --callers. At c=1 a plugin's worker runs each request after sleeping, and what a call
// then costs grows with the distinct code and data it touches more than with its
// instructions (docs/reference/scrypted-host.md §13, session z), so the distinct 64-byte
// lines of code a request runs are a figure of their own beside its instruction count.
//
// Hand-written because no registry package reads either format: callgrind's output with
// `--dump-instr=yes` (its "Callgrind Format": cost lines `<address> <line> <Ir>`, the address
// absolute or relative to the previous one, name compression `(n) name`; the line after a
// `calls=` line is the callee's inclusive cost at the call site) and node's
// `--perf-basic-prof` map (`/tmp/perf-<pid>.map`: `<start hex> <size hex> <name>` per code
// object, a later entry winning where code was put at the same address again).

const LINE = 64;

/** The kind of a JIT code object by its perf map name: wasm functions end `-liftoff` or `-turbofan`. */
function kindOf(name) {
  const tier = /-(liftoff|turbofan)$/.exec(name)?.[1];
  if (tier) return /^JS:(wasm-to-js|js-to-wasm)/.test(name) ? 'wrapper' : `wasm ${tier}`;
  return name.split(':', 1)[0]; // JS, Builtin, BytecodeHandler, RegExp, Stub, ...
}

/** Sorted starts and their [end, name], for finding the code object an address is in. */
function perfMap(text) {
  const objects = new Map();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) objects.set(parseInt(m[1], 16), [parseInt(m[1], 16) + parseInt(m[2], 16), m[3]]);
  }
  const starts = [...objects.keys()].sort((a, b) => a - b);
  return (address) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    const object = hi >= 0 ? objects.get(starts[hi]) : undefined;
    return object && address < object[0] ? object[1] : undefined;
  };
}

/**
 * Each cost line of a callgrind dump, in order, as {fn, address, ir, counted, call}: fn the
 * id of the function the line is in (`fn=(n)`), counted whether its object is no shared
 * library, and call, for the line after a `calls=` line (the callee's inclusive cost, at the
 * call site's address), the callee's id and how many calls: {fn, count}.
 */
function* costLines(callgrindText) {
  const objectNames = new Map();
  let counted = false;
  let last = 0;
  let fn;
  let callee;
  let call;
  for (const line of callgrindText.split('\n')) {
    if (line.startsWith('cob=')) {
      const m = /^cob=\((\d+)\) (.*)$/.exec(line); // a callee's object, named here first
      if (m) objectNames.set(m[1], m[2]);
      continue;
    }
    if (line.startsWith('ob=')) {
      // `(n) name` defines n, `(n)` refers to it (a name given in an earlier dump is not
      // repeated); without --compress-strings the name stands alone.
      const m = /^ob=\((\d+)\)(?: (.*))?$/.exec(line);
      if (m?.[2] !== undefined) objectNames.set(m[1], m[2]);
      const name = m ? objectNames.get(m[1]) : line.slice(3);
      // A shared library's addresses are offsets into it, which could fall inside a code
      // object of the map; the map's objects are JIT code (???) and node's own binary.
      counted = !/\.so(\.|$)/.test(name ?? '');
      continue;
    }
    if (line.startsWith('fn=') || line.startsWith('cfn=')) {
      const id = /^c?fn=(\(\d+\)|.*)/.exec(line)[1];
      if (line.startsWith('fn=')) fn = id;
      else callee = id;
      continue;
    }
    if (line.startsWith('calls=')) {
      call = { fn: callee, count: Number(/^calls=(\d+)/.exec(line)[1]) };
      continue;
    }
    const m = /^(0x[0-9a-f]+|[+-]\d+|\*)\s/.exec(line);
    if (!m) continue;
    const at = m[1];
    last = at.startsWith('0x') ? parseInt(at, 16) : at === '*' ? last : last + Number(at);
    yield { fn, address: last, ir: Number(line.slice(line.lastIndexOf(' ') + 1)), counted, call };
    call = undefined;
  }
}

/** A perf map name without Rust's hash (`::h` and 16 hex digits) or the `JS:` prefix. */
const shortName = (name) => name.replace(/^JS:/, '').replace(/::h[0-9a-f]{16}/g, '');

/**
 * The code V8 names that `calls` calls ran: {byKind: {kind: {bytes, irPerCall}}, functions:
 * [{name, kind, bytes, irPerCall}] by distinct lines, largest first}, bytes being the
 * distinct lines'. That is the JIT code and V8's builtins (embedded in node's own binary,
 * whose addresses callgrind gives as they are); node's C++ and the shared libraries are
 * left out, the same for every build.
 */
export function footprint(callgrindText, perfMapText, calls) {
  const nameAt = perfMap(perfMapText);
  const lines = new Map(); // name → Set of line numbers
  const ir = new Map();
  for (const cost of costLines(callgrindText)) {
    if (cost.call || !cost.counted) continue;
    const name = nameAt(cost.address);
    if (name === undefined) continue;
    if (!lines.has(name)) lines.set(name, new Set());
    lines.get(name).add(Math.floor(cost.address / LINE));
    ir.set(name, (ir.get(name) ?? 0) + cost.ir);
  }
  const functions = [...lines].map(([name, set]) => ({ name, kind: kindOf(name), lines: set.size, ir: ir.get(name) }));
  const byKind = {};
  for (const f of functions) {
    const k = (byKind[f.kind] ??= { lines: 0, ir: 0 });
    k.lines += f.lines;
    k.ir += f.ir;
  }
  return {
    byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, { bytes: v.lines * LINE, irPerCall: Math.round(v.ir / calls) }])),
    functions: functions
      .sort((a, b) => b.lines - a.lines)
      .map((f) => ({ name: shortName(f.name), kind: f.kind, bytes: f.lines * LINE, irPerCall: Math.round(f.ir / calls) })),
  };
}

/**
 * Who calls the code whose perf map name matches `pattern`, and what those calls cost:
 * [{caller, callsPerCall, irPerCall}] by inclusive instructions, most first, the caller
 * being the code object of the call site. callgrind names a JIT function after the address
 * it was entered at (a wasm call enters through the module's jump table), so the callees
 * are the callgrind functions whose own lines ran matching code; a callgrind function that
 * also ran other code (entered by a jump) counts whole.
 */
export function callers(callgrindText, perfMapText, calls, pattern) {
  const nameAt = perfMap(perfMapText);
  const matching = new Set();
  for (const cost of costLines(callgrindText)) {
    if (!cost.call && cost.counted && pattern.test(nameAt(cost.address) ?? '')) matching.add(cost.fn);
  }
  const byCaller = new Map();
  for (const cost of costLines(callgrindText)) {
    if (!cost.call || !matching.has(cost.call.fn)) continue;
    const caller = nameAt(cost.address) ?? `0x${cost.address.toString(16)}`;
    const c = byCaller.get(caller) ?? { count: 0, ir: 0 };
    c.count += cost.call.count;
    c.ir += cost.ir;
    byCaller.set(caller, c);
  }
  return [...byCaller]
    .sort((a, b) => b[1].ir - a[1].ir)
    .map(([caller, c]) => ({ caller: shortName(caller), callsPerCall: c.count / calls, irPerCall: Math.round(c.ir / calls) }));
}
