// The shared host-behaviour cases (tests/host-cases.json) against the dev host, through the
// real js-shim/host.js: createHost over the dev host's simulated globals. The same cases run
// against the Rust fake bridge (tests/host_cases.rs): a behaviour written once, two
// implementations checked against it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DEMO, mergePatch } from '../../js-shim/dev/demo.mjs';
import { Runtime } from '../../js-shim/dev/runtime.mjs';
import { createHost, listenToDevices } from '../../js-shim/host.js';
import { ROOT } from './helpers/devhost.mjs';
import { pictureInfo } from './helpers/picture.mjs';

const { cases } = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/host-cases.json'), 'utf8'));

/** Numbers compare by value; objects and arrays member by member. */
function same(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && same(a[k], b[k]));
  }
  return a === b;
}

/** `match`: objects need the pattern's members (null = null or absent), arrays the same length. */
function matches(pattern, actual) {
  if (pattern === null) return actual === null || actual === undefined;
  if (Array.isArray(pattern)) {
    return Array.isArray(actual) && actual.length === pattern.length && pattern.every((p, i) => matches(p, actual[i]));
  }
  if (typeof pattern === 'object') {
    return actual !== null && typeof actual === 'object' && !Array.isArray(actual)
      && Object.entries(pattern).every(([k, v]) => matches(v, actual[k]));
  }
  return same(pattern, actual);
}

function check(step, outcome) {
  const show = (v) => JSON.stringify(v);
  if (step.error !== undefined) {
    assert.ok(outcome.error, `answered ${show(outcome.answer)} where an error was expected`);
    assert.match(outcome.error.message, new RegExp(step.error));
    assert.equal(outcome.error.code, undefined, 'only the message crosses');
    return;
  }
  assert.ok(!outcome.error, `failed: ${outcome.error?.message}`);
  const answer = outcome.answer;
  if ('result' in step) assert.ok(same(step.result, answer), `answered ${show(answer)}, expected ${show(step.result)}`);
  if ('match' in step) assert.ok(matches(step.match, answer), `answered ${show(answer)}, which does not match ${show(step.match)}`);
  if ('length' in step) assert.equal(answer?.length, step.length, `answered ${show(answer)}`);
  if ('each' in step) assert.ok(answer.every((x) => matches(step.each, x)), `answered ${show(answer)}, not every entry matches ${show(step.each)}`);
  if ('pattern' in step) assert.match(answer, new RegExp(step.pattern));
  if ('picture' in step) {
    const { mimeType, ...header } = step.picture;
    assert.equal(answer.mimeType, mimeType);
    const info = pictureInfo(Buffer.from(answer.data, 'base64'));
    for (const [k, v] of Object.entries(header)) assert.equal(info[k], v, `picture ${k}`);
  }
}

describe('host behaviour cases, against the dev host through js-shim/host.js', () => {
  for (const c of cases) {
    test(c.name, async () => {
      let offsetMs = 0; // moved by a step's advanceMs
      const clock = { now: () => Date.now() + offsetMs };
      const rt = new Runtime({ demo: mergePatch(DEMO, c.given ?? {}), log: () => {}, clock });
      const params = rt.pluginParams();
      const host = createHost(params, { os: rt.osModule(), console: { log() {}, warn() {}, error() {} } });
      const events = [];
      listenToDevices(params.systemManager, (e) => events.push(e));
      for (const [i, step] of c.steps.entries()) {
        if ('advanceMs' in step) {
          offsetMs += step.advanceMs;
          continue;
        }
        const outcome = {};
        try {
          // The wasm's road: arguments and answer as JSON text.
          outcome.answer = JSON.parse(await host.callJson(step.call, JSON.stringify(step.args ?? {})));
        } catch (e) {
          outcome.error = e;
        }
        // Events arrive on a later tick than the call's answer, as one-way RPC messages do.
        await new Promise((r) => setImmediate(r));
        const fired = events.splice(0);
        try {
          if (step.events) assert.ok(matches(step.events, fired), `events ${JSON.stringify(fired)} do not match ${JSON.stringify(step.events)}`);
          check(step, outcome);
        } catch (e) {
          e.message = `step ${i + 1} (${step.call}): ${e.message}`;
          throw e;
        }
        // The caller's copy changes; the server's must not (the RPC-copy case).
        if (step.edit) Object.assign(outcome.answer, mergePatch(outcome.answer, step.edit));
      }
    });
  }
});
