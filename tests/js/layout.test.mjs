// The map stays true: every file under the checked folders is named in the layout block of
// docs/ARCHITECTURE.md, and every name there exists. The block is the first fenced block
// after the "## Layout" heading: one entry per line, two spaces of indent per directory
// level, the name (a directory ends in "/"), then at least two spaces and what it is for.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers/devhost.mjs';

const DOC = 'docs/ARCHITECTURE.md';
/** The folders whose every file the block must name (files at the root may be named too). */
const CHECKED = ['src', 'js-shim', 'tests', 'scripts', 'bench', 'docs', '.ci'];

/** The block's lines, with the file line number of its first line. */
function layoutBlock(markdown) {
  const lines = markdown.split('\n');
  const heading = lines.findIndex((l) => /^## Layout\s*$/.test(l));
  if (heading < 0) throw new Error(`${DOC} has no "## Layout" heading`);
  const open = lines.findIndex((l, i) => i > heading && /^```/.test(l));
  const close = lines.findIndex((l, i) => i > open && /^```\s*$/.test(l));
  if (open < 0 || close < 0) throw new Error(`${DOC}: no fenced block after "## Layout"`);
  return { lines: lines.slice(open + 1, close), firstLine: open + 2 };
}

/**
 * Reads the block into entries {path, line}; `problems` says which lines cannot be read.
 * `path` is relative to the repository root; directories end in "/".
 */
function parse({ lines, firstLine }) {
  const entries = [];
  const problems = [];
  const dirs = []; // the directory at each depth above the current line
  lines.forEach((text, i) => {
    const line = firstLine + i;
    if (!text.trim()) return;
    const m = /^( *)(\S+)(?: {2,}(\S.*))?$/.exec(text);
    if (!m) {
      problems.push(`${DOC} line ${line}: cannot read "${text}": write the name, then two spaces and what it is for`);
      return;
    }
    const [, indent, name, description] = m;
    const depth = indent.length / 2;
    if (!Number.isInteger(depth) || depth > dirs.length) {
      problems.push(`${DOC} line ${line}: "${name}" is indented ${indent.length} spaces; entries under ${dirs.at(-1)?.path ?? 'the root'} take ${dirs.length * 2}`);
      return;
    }
    dirs.length = depth;
    const entry = { path: (dirs.at(-1)?.path ?? '') + name, line };
    if (!description) problems.push(`${DOC} line ${line}: "${name}" needs a description: two spaces, then what it is for`);
    entries.push(entry);
    if (name.endsWith('/')) dirs.push(entry);
  });
  return { entries, problems };
}

/**
 * Everything wrong between the block and the files: unreadable lines, names given twice,
 * names of things that do not exist, and files that are not named — each with the line to
 * add and where. `files` are repository-relative paths; `kind(path)` is 'file', 'dir' or null.
 */
function checkLayout(block, files, kind) {
  const { entries, problems } = parse(block);
  const named = new Map();
  for (const e of entries) {
    const first = named.get(e.path);
    if (first) {
      problems.push(`${DOC} line ${e.line} names ${e.path} again (first at line ${first.line}): keep one`);
      continue;
    }
    named.set(e.path, e);
    const want = e.path.endsWith('/') ? 'dir' : 'file';
    const is = kind(e.path.replace(/\/$/, ''));
    if (is !== want) {
      problems.push(is
        ? `${DOC} line ${e.line} names ${e.path}, but that is a ${is === 'dir' ? 'directory (end the name with "/")' : 'file (drop the "/")'}`
        : `${DOC} line ${e.line} names ${e.path}, which does not exist: remove the line or correct the name`);
    }
  }
  // Missing files, grouped under the deepest directory the block names.
  const missing = new Map();
  for (const file of [...files].sort()) {
    if (named.has(file)) continue;
    const parts = file.split('/');
    let at = parts.length - 1;
    while (at > 0 && !named.has(`${parts.slice(0, at).join('/')}/`)) at--;
    const parent = at > 0 ? named.get(`${parts.slice(0, at).join('/')}/`) : null;
    const key = parent?.path ?? '';
    if (!missing.has(key)) missing.set(key, { parent, lines: [], files: [] });
    const group = missing.get(key);
    group.files.push(file);
    // The directories the block lacks on the way down, then the file.
    for (let i = at; i < parts.length; i++) {
      const isDir = i < parts.length - 1;
      const text = `${'  '.repeat(i)}${parts[i]}${isDir ? '/' : ''}`;
      if (!group.lines.includes(text)) group.lines.push(text);
    }
  }
  for (const { parent, lines, files: unnamed } of missing.values()) {
    const where = parent
      ? `under line ${parent.line} (the entry of ${parent.path}), among that directory's entries`
      : 'at the top level';
    problems.push(
      `${DOC} does not name ${unnamed.join(', ')}. Add ${where}, with what each is for:\n` +
        lines.map((l) => `${l}  <what it is for>`).join('\n'),
    );
  }
  return problems;
}

/** Files git tracks or would track (untracked but not ignored) under the checked folders. */
function repositoryFiles() {
  const r = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', ...CHECKED], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ls-files failed (the layout check lists files with git): ${r.stderr || r.error}`);
  return r.stdout.split('\0').filter((f) => f && fs.existsSync(path.join(ROOT, f)));
}

function kindOf(relative) {
  try {
    return fs.statSync(path.join(ROOT, relative)).isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

describe(`the layout block of ${DOC}`, () => {
  test('names every file under the checked folders, and only things that exist', () => {
    const block = layoutBlock(fs.readFileSync(path.join(ROOT, DOC), 'utf8'));
    const files = repositoryFiles();
    assert.ok(files.some((f) => f === 'src/lib.rs'), 'git listed the repository files');
    const problems = checkLayout(block, files, kindOf);
    assert.equal(problems.length, 0, `\n${problems.join('\n\n')}\n`);
  });

  test('a missing file is reported with the line to add and where; a stale name too', () => {
    const block = {
      firstLine: 10,
      lines: [
        'src/            the crate',
        '  lib.rs        root',
        '  gone.rs       removed since',
        '  oauth/        authorization server',
        '    mod.rs      routes',
        'tests/          suites',
      ],
    };
    const files = ['src/lib.rs', 'src/oauth/mod.rs', 'src/oauth/error.rs', 'src/new/a.rs', 'bench/run.mjs'];
    const exists = new Set(['src', 'src/lib.rs', 'src/oauth', 'src/oauth/mod.rs', 'tests']);
    const problems = checkLayout(block, files, (p) => (exists.has(p) ? (p.includes('.') ? 'file' : 'dir') : null));
    assert.deepEqual(problems, [
      `${DOC} line 12 names src/gone.rs, which does not exist: remove the line or correct the name`,
      `${DOC} does not name bench/run.mjs. Add at the top level, with what each is for:\nbench/  <what it is for>\n  run.mjs  <what it is for>`,
      `${DOC} does not name src/new/a.rs. Add under line 10 (the entry of src/), among that directory's entries, with what each is for:\n  new/  <what it is for>\n    a.rs  <what it is for>`,
      `${DOC} does not name src/oauth/error.rs. Add under line 13 (the entry of src/oauth/), among that directory's entries, with what each is for:\n    error.rs  <what it is for>`,
    ]);
  });

  test('unreadable lines, a name given twice and a missing description are reported', () => {
    const block = { firstLine: 1, lines: ['src/  the crate', '   lib.rs  odd indent', '  a.rs', '  b.rs  ok', '  b.rs  again'] };
    const problems = checkLayout(block, ['src/a.rs', 'src/b.rs'], (p) => (p === 'src' ? 'dir' : 'file'));
    assert.deepEqual(problems, [
      `${DOC} line 2: "lib.rs" is indented 3 spaces; entries under src/ take 2`,
      `${DOC} line 3: "a.rs" needs a description: two spaces, then what it is for`,
      `${DOC} line 5 names src/b.rs again (first at line 4): keep one`,
    ]);
  });
});
