// The project's commands read their options strictly (scripts/lib.mjs commandLine): a typo is
// refused with exit 2 before anything runs, and --help prints the command's own documentation
// and exits 0. Each case would otherwise start a build, the test suites or a bench run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../scripts/lib.mjs';

const run = (script, ...args) => spawnSync(process.execPath, [path.join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });

for (const script of ['scripts/test.mjs', 'bench/run.mjs', 'bench/callgrind.mjs', 'bench/alloc.mjs', 'bench/worker.mjs', 'bench/idle.mjs']) {
  test(`${script} --help prints its header comment and exits 0`, () => {
    const r = run(script, '--help');
    assert.equal(r.status, 0, r.stderr);
    const secondLine = fs.readFileSync(path.join(ROOT, script), 'utf8').split('\n')[1].replace(/^\/\/ ?/, '');
    assert.equal(r.stdout.split('\n')[0], secondLine);
    assert.equal(run(script, '-h').stdout, r.stdout);
  });

  test(`${script} refuses an unknown option with exit 2, naming it`, () => {
    const r = run(script, '--no-such-option');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Unknown option '--no-such-option'/);
    assert.match(r.stderr, /--help lists the options/);
    assert.equal(r.stdout, '');
  });
}

test('an option that takes a value refuses to run without one', () => {
  const r = run('scripts/test.mjs', '--only');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--only <value>' argument missing/);
});

test('a number option refuses what is not a number', () => {
  for (const [script, opt] of [['bench/run.mjs', '--reps'], ['bench/callgrind.mjs', '--calls'], ['bench/alloc.mjs', '--requests'], ['bench/worker.mjs', '--duration'], ['bench/idle.mjs', '--calls']]) {
    const r = run(script, opt, 'three');
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), `${script}: ${opt} must be a number >= 0, not "three"`);
  }
});
