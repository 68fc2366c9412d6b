// The official MCP conformance suite against the fixture build, through the real auth path:
// a token from a real OAuth flow, added by a loopback bearer proxy
// (docs/reference/mcp-protocol.md §2.8). Also the 0.2.0-alpha `authorization` scenarios
// against our authorization server (§2.7).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { FIXTURE_ZIP, ROOT } from './helpers/devhost.mjs';
import { startLoggedIn, obtainTokens, registerPublicClient, approveConsent } from './helpers/oauth.mjs';
import { startBearerProxy } from './helpers/proxy.mjs';
import { ensureConformance, runCli } from './helpers/conformance.mjs';

const BASELINE = path.join(ROOT, 'tests', 'js', 'conformance-baseline.yml');
const RESULTS = path.join(ROOT, 'tests', 'js', 'results');

const freePort = () =>
  new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

let cli;
let host;
let cookie;

before(async () => {
  [cli, { host, cookie }] = await Promise.all([ensureConformance(), startLoggedIn({ zip: FIXTURE_ZIP })]);
  mkdirSync(RESULTS, { recursive: true });
  // Keep only this run's result folders.
  for (const d of readdirSync(RESULTS)) if (d.startsWith('conformance-')) rmSync(path.join(RESULTS, d), { recursive: true, force: true });
});
after(async () => {
  await host?.stop();
});

describe('conformance server suites through the bearer proxy (fixture build, real OAuth token)', () => {
  let proxy;
  let accessToken = null;
  before(async () => {
    proxy = await startBearerProxy(host.baseUrl, () => accessToken);
    // The OAuth flow goes through the proxy too, so the token's audience is the URL the
    // suite uses (the issuer and resource follow the request's Host).
    const view = proxy.view(host);
    const { tokens } = await obtainTokens(view, cookie);
    accessToken = tokens.access_token;
  });
  after(async () => {
    await proxy?.close();
  });

  test('all scenarios pass (or are baselined with a reason)', { timeout: 300_000 }, async (t) => {
    const url = proxy.view(host).mcpUrl;
    const outDir = path.join(RESULTS, `conformance-server-${Date.now()}`);
    const r = await runCli(cli.node, [cli.gate, 'server', '--url', url, '--expected-failures', BASELINE, '-o', outDir]);
    const all = r.out + '\n' + r.err;
    const total = all.match(/Total:\s*(\d+)\s+passed,\s*(\d+)\s+failed/);
    const failedLines = all.split('\n').filter((l) => /FAILURE|✗|Stale baseline|Unexpected/i.test(l));
    const summary = total ? `conformance 0.1.16 server: Total: ${total[1]} passed, ${total[2]} failed` : 'conformance: no Total line';
    t.diagnostic(summary);
    console.log(summary);
    writeFileSync(path.join(RESULTS, 'conformance-server-output.txt'), all);
    assert.ok(total, `no Total line in output:\n${all.slice(-3000)}`);
    assert.equal(r.code, 0, `conformance exited ${r.code ?? r.signal}:\n${failedLines.slice(0, 60).join('\n')}`);
    assert.ok(Number(total[1]) > 0, 'some checks ran');
  });
  test('0.2.0-alpha.12 server scenarios required by 2025-11-25 (stricter: wire-schema-valid, session lifecycle) pass', { timeout: 300_000 }, async (t) => {
    const url = proxy.view(host).mcpUrl;
    const outDir = path.join(RESULTS, `conformance-alpha-server-${Date.now()}`);
    const r = await runCli(cli.node, [cli.alpha, 'server', '--url', url, '--requirements', '2025-11-25', '--timeout', '10000', '-o', outDir]);
    const all = r.out + '\n' + r.err;
    writeFileSync(path.join(RESULTS, 'conformance-alpha-server-output.txt'), all);
    const total = all.match(/Total:\s*(\d+)\s+passed,\s*(\d+)\s+failed/);
    const summary = total ? `conformance 0.2.0-alpha.12 server (requirements 2025-11-25): Total: ${total[1]} passed, ${total[2]} failed` : 'alpha server: no Total line';
    t.diagnostic(summary);
    console.log(summary);
    const failed = all.split('\n').filter((l) => /FAILURE|✗/.test(l));
    assert.ok(total, all.slice(-2000));
    assert.equal(r.code, 0, `exited ${r.code ?? r.signal}:\n${failed.slice(0, 60).join('\n')}`);
    assert.equal(total[2], '0', `no failed check:\n${failed.slice(0, 60).join('\n')}`);
    assert.ok(Number(total[1]) > 0, 'some checks ran');
  });
});

describe('conformance 0.2.0-alpha.12 authorization scenarios against our AS', () => {
  test('authorization-server-metadata-endpoint and authorization-code-grant pass', { timeout: 300_000 }, async (t) => {
    const port = await freePort();
    const client = await registerPublicClient(host, [`http://127.0.0.1:${port}/callback`], 'conformance-authorization');
    const outDir = path.join(RESULTS, `conformance-authorization-${Date.now()}`);
    let printedUrl = null;
    let expectUrl = false;
    let browser = null;
    const r = await runCli(
      cli.node,
      [cli.alpha, 'authorization', '--url', host.publicBase, '--client-id', client.client_id, '--resource', host.mcpUrl, '-p', String(port), '-o', outDir],
      {
        onLine: (line, child) => {
          if (/Access the following URL/i.test(line)) {
            expectUrl = true;
            return;
          }
          if (expectUrl && /^https?:\/\//.test(line.trim())) {
            printedUrl = line.trim();
            expectUrl = false;
          }
          if (/Waiting up to/i.test(line) && printedUrl && !browser) {
            // The "browser" step: the logged-in admin opens the URL and follows the redirect.
            browser = (async () => {
              // The admin approves the consent page as in a browser (the shared helper).
              const a = await approveConsent(printedUrl, cookie);
              const loc = a.location;
              if (a.status !== 302 || !loc) throw new Error(`authorize answered ${a.status}: ${a.text.slice(0, 300)}`);
              // The scenario starts its callback server just after printing "Waiting ...".
              for (let i = 0; ; i++) {
                try {
                  await (await fetch(loc)).text();
                  return loc;
                } catch (e) {
                  if (i >= 50) throw e;
                  await new Promise((res) => setTimeout(res, 100));
                }
              }
            })();
            browser.catch(() => {
              try {
                process.kill(child.pid, 'SIGTERM'); // do not wait out its 5-minute timeout
              } catch {}
            });
          }
        },
        timeoutMs: 60_000,
      },
    );
    const all = r.out + '\n' + r.err;
    writeFileSync(path.join(RESULTS, 'conformance-authorization-output.txt'), all);
    assert.ok(printedUrl, `the scenario printed an authorize URL:\n${all.slice(-2000)}`);
    const redirected = await browser;
    assert.ok(redirected.startsWith(`http://127.0.0.1:${port}/callback?`), redirected);
    const total = all.match(/Total:\s*(\d+)\s+passed,\s*(\d+)\s+failed/);
    const summary = total ? `conformance 0.2.0-alpha.12 authorization: Total: ${total[1]} passed, ${total[2]} failed` : 'authorization: no Total line';
    t.diagnostic(summary);
    console.log(summary);
    const failed = all.split('\n').filter((l) => /FAILURE|✗/.test(l));
    assert.equal(r.code, 0, `authorization scenarios exited ${r.code ?? r.signal}:\n${failed.join('\n')}\n${all.slice(-1500)}`);
    for (const scenario of ['authorization-server-metadata-endpoint', 'authorization-code-grant']) {
      assert.match(all, new RegExp(`✓ ${scenario}: [1-9]\\d* passed, 0 failed`), `${scenario} ran and passed`);
    }
    assert.ok(total, `no Total line:\n${all.slice(-1500)}`);
    assert.equal(total[2], '0', 'no failed check');
    // Every check, warnings included (the summary counts only failures): the CIMD check of
    // the metadata was a WARNING until the AS served Client ID Metadata Documents.
    const checks = readdirSync(outDir).flatMap((d) => JSON.parse(readFileSync(path.join(outDir, d, 'checks.json'), 'utf8')));
    const notOk = checks.filter((c) => c.status !== 'SUCCESS').map((c) => `${c.status} ${c.id}: ${c.errorMessage}`);
    assert.deepEqual(notOk, [], 'no warning or failure in any check');
    assert.equal(checks.find((c) => c.id === 'authorization-server-metadata-cimd')?.status, 'SUCCESS', 'the CIMD check ran and passed');
  });
});
