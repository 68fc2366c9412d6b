// The headless OAuth end-to-end run with @modelcontextprotocol/sdk's real client against the
// real wasm + shim in the dev host: register → authorize with the login cookie → token →
// initialize → get_server_info (redacted) → expiry → silent refresh with rotation → DELETE
// session → 404. Then elicitation through the SDK client on restore_backup.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { waitFor } from './helpers/devhost.mjs';
import { startLoggedIn, connectSdkClient, jwtParts } from './helpers/oauth.mjs';
import { mcpRequest, req } from './helpers/mcp.mjs';
import { resultJson, resultText, findObjectWithKey, isRestore, acceptingContent } from './helpers/tools.mjs';

const SECRET_RE = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH/i;

/** The SCRYPTED_* environment the dev host gives the plugin. */
async function scryptedEnv(host) {
  const s = await host.state();
  const env = findObjectWithKey(s, 'SCRYPTED_ADMIN_TOKEN');
  assert.ok(env, 'the dev host state exposes the simulated SCRYPTED_* environment');
  return env;
}

/**
 * restore_backup as a client must call it: the zip in chunks of at most 64 KiB (Scrypted
 * refuses request bodies over 100 KB), the SHA-256 with the last chunk. Returns the last
 * call's result (the one that asks the user and restores).
 */
async function restoreBackup(client, b64, { chunk = 65536, options } = {}) {
  const bytes = Buffer.from(b64, 'base64');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const CHUNK = Math.min(chunk, 65536);
  const total = Math.max(1, Math.ceil(bytes.length / CHUNK));
  let uploadId;
  let last;
  for (let i = 0; i < total; i++) {
    const args = {
      confirm: 'RESTORE FROM BACKUP',
      chunk_base64: bytes.subarray(i * CHUNK, (i + 1) * CHUNK).toString('base64'),
      chunk_index: i,
      total_chunks: total,
    };
    if (uploadId) args.upload_id = uploadId;
    if (i === total - 1) args.sha256 = sha256;
    last = await client.callTool({ name: 'restore_backup', arguments: args }, undefined, options);
    if (i < total - 1) {
      assert.notEqual(last.isError, true, resultText(last));
      assert.equal(last.structuredContent.status, 'staged');
      uploadId = last.structuredContent.upload_id;
    }
  }
  return { result: last, chunks: total };
}

describe('OAuth end to end with the SDK client', () => {
  let host;
  let cookie;
  before(async () => ({ host, cookie } = await startLoggedIn()));
  after(() => host?.stop());

  test('register → authorize → token → initialize → get_server_info → silent refresh → DELETE session', async () => {
    const { client, transport, provider } = await connectSdkClient(host.mcpUrl, cookie, { name: 'e2e' });
    try {
      // Registration went through DCR and the code through the login cookie.
      const info = provider.clientInformation();
      assert.match(info.client_id, /\S/);
      assert.equal(provider.codes.length, 1, 'exactly one authorization round trip');
      const authUrl = provider.authorizationUrls[0];
      assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(authUrl.searchParams.get('resource'), host.mcpUrl, 'the SDK sends the PRM resource verbatim');

      // Token: an ES256 JWT for exactly this MCP URL.
      assert.equal(provider.savedTokens.length, 1);
      const first = provider.savedTokens[0];
      assert.ok(first.refresh_token, 'a refresh token was issued');
      assert.equal(first.token_type.toLowerCase(), 'bearer');
      const { header, payload } = jwtParts(first.access_token);
      assert.equal(header.alg, 'ES256');
      assert.equal(payload.aud, host.mcpUrl);
      assert.equal(payload.iss, host.publicBase);
      assert.equal(payload.sub, host.username);
      assert.equal(payload.client_id, info.client_id);
      assert.equal(payload.exp - payload.iat, first.expires_in, 'exp is expires_in after iat');
      assert.equal(first.expires_in, 3600, 'the manifest default access_token_ttl_sec');
      assert.match(payload.jti, /\S/, 'a jti');

      assert.ok(transport.sessionId, 'the server issued a session id');
      assert.match(transport.sessionId, /^[\x21-\x7e]+$/);

      // get_server_info: secrets redacted, a non-secret value shown.
      const env = await scryptedEnv(host);
      const secret = env.SCRYPTED_ADMIN_TOKEN;
      assert.ok(secret && secret.length >= 8, 'the demo admin token is a real-looking secret');
      const plain = Object.entries(env).filter(([k, v]) => !SECRET_RE.test(k) && typeof v === 'string' && v.length > 0);
      assert.ok(plain.length > 0, 'the demo env has at least one non-secret SCRYPTED_* variable');
      const r1 = await client.callTool({ name: 'get_server_info', arguments: {} });
      assert.notEqual(r1.isError, true, resultText(r1));
      const wire = JSON.stringify(r1);
      assert.ok(!wire.includes(secret), 'SCRYPTED_ADMIN_TOKEN value never appears');
      for (const [k, v] of Object.entries(env)) {
        if (SECRET_RE.test(k) && typeof v === 'string' && v.length >= 6) assert.ok(!wire.includes(v), `${k} value is redacted`);
      }
      const [plainKey, plainValue] = plain.sort((a, b) => b[1].length - a[1].length)[0];
      assert.ok(wire.includes(plainKey), `${plainKey} is listed`);
      assert.ok(wire.includes(plainValue), `${plainKey}'s non-secret value is shown`);
      const sc = resultJson(r1);
      assert.ok(sc && typeof sc === 'object', 'structuredContent present');
      assert.deepEqual(JSON.parse(r1.content.find((c) => c.type === 'text').text), r1.structuredContent, 'text block = structuredContent');

      // Expiry: advance the clock the wasm sees past the access-token lifetime.
      // (The session stays in use meanwhile: idle sessions are reaped after an hour.)
      const sessionBefore = transport.sessionId;
      const ttlMs = (payload.exp - payload.iat) * 1000;
      await host.advanceClock(ttlMs - 10 * 60_000);
      await client.ping();
      assert.equal(provider.savedTokens.length, 1, 'still the first token');
      await host.advanceClock(10 * 60_000 + 5000);
      const expired = await mcpRequest(host.mcpUrl, { token: first.access_token, sessionId: sessionBefore, body: req('ping') });
      assert.equal(expired.status, 401, 'the old access token is now expired');
      assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

      // The next call refreshes silently, with rotation.
      const r2 = await client.callTool({ name: 'get_server_info', arguments: {} });
      assert.notEqual(r2.isError, true, resultText(r2));
      assert.equal(provider.savedTokens.length, 2, 'saveTokens got the refreshed tokens');
      const second = provider.savedTokens[1];
      assert.ok(second.refresh_token, 'the refresh answer carries a new refresh token');
      assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token rotated');
      assert.notEqual(second.access_token, first.access_token);
      assert.equal(provider.codes.length, 1, 'no second browser round trip');
      assert.equal(transport.sessionId, sessionBefore, 'same session after refresh');

      // DELETE the session; the id is then unknown.
      await transport.terminateSession();
      assert.equal(transport.sessionId, undefined);
      const after = await mcpRequest(host.mcpUrl, { token: second.access_token, sessionId: sessionBefore, body: req('ping') });
      assert.equal(after.status, 404, `ended session → 404 (got ${after.status} ${after.text})`);
    } finally {
      await client.close().catch(() => {});
    }
  });
});

describe('a long legacy call through an SDK client with an idle limit', () => {
  let host;
  let cookie;
  before(async () => ({ host, cookie } = await startLoggedIn()));
  after(() => host?.stop());

  test('an install that takes longer than the limit: the answer streams and keeps alive', async () => {
    // Node's fetch gives up on a response that sends nothing for 300 s (undici's
    // headersTimeout and bodyTimeout), proxies and tunnels after 60–100 s; this client's
    // limit is 20 s and the install takes 35 s.
    const { Agent, fetch: undiciFetch } = await import('undici');
    const dispatcher = new Agent({ headersTimeout: 20_000, bodyTimeout: 20_000 });
    const fetch = (url, init) => undiciFetch(url, { ...init, dispatcher });
    const { client, transport } = await connectSdkClient(host.mcpUrl, cookie, { fetch });
    const errors = [];
    transport.onerror = (e) => errors.push(String(e));
    await host.npmInstallMs(35_000);
    try {
      const r = await client.callTool({ name: 'install_plugin', arguments: { package: '@scrypted/ring' } }, undefined, { timeout: 60_000 });
      assert.deepEqual(errors, [], 'the answer was not cut');
      assert.notEqual(r.isError, true, resultText(r));
      assert.equal(r.structuredContent.package, '@scrypted/ring');
    } finally {
      await host.npmInstallMs(20);
      await client.close().catch(() => {});
      await dispatcher.close();
    }
  });
});

describe('a long legacy call the SDK client gives up on', () => {
  let host;
  let cookie;
  before(async () => ({ host, cookie } = await startLoggedIn()));
  after(() => host?.stop());

  test('its stream is not resumed, and the session\'s GET stream is left alone', async () => {
    // The SDK resumes a primed stream that ended without its answer by a GET with
    // Last-Event-ID; every GET is logged with that header and its status.
    const gets = [];
    const logging = async (url, init = {}) => {
      const r = await fetch(url, init);
      if ((init.method ?? 'GET') === 'GET' && String(url) === host.mcpUrl) {
        gets.push({ lastEventId: new Headers(init.headers).get('last-event-id'), status: r.status });
      }
      return r;
    };
    const { client } = await connectSdkClient(host.mcpUrl, cookie, { fetch: logging });
    await host.npmInstallMs(25_000);
    try {
      // The answer becomes a stream after 15 s; the client gives up at 17 s.
      await assert.rejects(
        client.callTool({ name: 'install_plugin', arguments: { package: '@scrypted/ring' } }, undefined, { timeout: 17_000 }),
        /timed out/i,
      );
      await new Promise((res) => setTimeout(res, 4000));
      const resumes = gets.filter((g) => g.lastEventId?.startsWith('post-'));
      assert.deepEqual(resumes.map((g) => g.status), [405], JSON.stringify(gets));
      assert.equal(gets.filter((g) => !g.lastEventId?.startsWith('post-')).length, 1, `one GET stream, never reopened: ${JSON.stringify(gets)}`);
    } finally {
      await host.npmInstallMs(20);
      await client.close().catch(() => {});
    }
  });
});

describe('elicitation through the SDK client on restore_backup', () => {
  let host;
  let cookie;
  before(async () => ({ host, cookie } = await startLoggedIn()));
  after(() => host?.stop());

  async function connectEliciting(answer, { fetch } = {}) {
    const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const asked = [];
    const conn = await connectSdkClient(host.mcpUrl, cookie, {
      fetch,
      capabilities: { elicitation: { form: {} } },
      onClient: (c) =>
        c.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
          asked.push(request.params);
          return answer(request.params, extra);
        }),
    });
    return { ...conn, asked };
  }

  /**
   * A client whose person never answers: the SDK aborts the handler when the server
   * withdraws the question, and `withdrawn()` is the reason it gave.
   */
  async function connectUnanswered() {
    let reason;
    const conn = await connectEliciting((_params, extra) => new Promise((resolve) => {
      extra.signal.addEventListener('abort', () => {
        reason = extra.signal.reason;
        resolve({ action: 'cancel' });
      });
    }));
    return { ...conn, withdrawn: () => reason };
  }

  async function makeBackup(client) {
    const b = await client.callTool({ name: 'create_backup', arguments: {} });
    assert.notEqual(b.isError, true, resultText(b));
    const res = b.content.find((c) => c.type === 'resource');
    assert.ok(res?.resource?.blob, 'create_backup embeds the backup');
    return res.resource.blob;
  }

  test('decline, cancel, "keep current server" and a bad checksum → nothing restored', async () => {
    const answers = [
      () => ({ action: 'decline' }),
      () => ({ action: 'cancel' }),
      () => ({ action: 'accept', content: { decision: 'KEEP CURRENT SERVER' } }),
    ];
    let next = 0;
    const { client, asked } = await connectEliciting(() => answers[next]());
    try {
      const b64 = await makeBackup(client);
      for (const [i, re] of [
        [0, /declined/i],
        [1, /cancel/i],
        [2, /chose not to restore/i],
      ]) {
        next = i;
        const { result: r } = await restoreBackup(client, b64);
        assert.equal(asked.length, i + 1, 'the server asked the user');
        assert.ok(asked[i].message && asked[i].requestedSchema?.type === 'object');
        assert.equal(r.isError, true, resultText(r));
        assert.match(resultText(r), re);
        assert.match(resultText(r), /Nothing was restored/i);
      }
      // A checksum mismatch is refused before the user is even asked.
      const bytes = Buffer.from(b64, 'base64');
      const bad = await client.callTool({
        name: 'restore_backup',
        arguments: { confirm: 'RESTORE FROM BACKUP', chunk_base64: bytes.subarray(0, 65536).toString('base64'), chunk_index: 0, total_chunks: 1, sha256: '0'.repeat(64) },
      });
      assert.equal(bad.isError, true);
      assert.match(resultText(bad), /checksum/i);
      assert.equal(asked.length, 3, 'not asked for a bad checksum');
      await new Promise((res) => setTimeout(res, 1700)); // longer than the 1.5 s deferred delay
      const calls = await host.calls();
      assert.equal(calls.filter(isRestore).length, 0, `no restore in ${JSON.stringify(calls.map((c) => c.method))}`);
      assert.equal((await host.state()).restoredBackups.length, 0);
    } finally {
      await client.close().catch(() => {});
    }
  });

  test('no answer within 10 minutes → the question is withdrawn, nothing restored', async () => {
    const { client, asked, withdrawn } = await connectUnanswered();
    try {
      const b64 = await makeBackup(client);
      const restoring = restoreBackup(client, b64);
      await waitFor(() => asked.length === 1 || null, { what: 'the confirmation question' });
      await host.advanceClock(9 * 60_000);
      await new Promise((res) => setTimeout(res, 1500)); // more than one tick of the server's timer
      assert.equal(withdrawn(), undefined, 'still asked after nine minutes');
      await host.advanceClock(60_000);
      const movedAt = Date.now();
      const { result: r } = await restoring;
      assert.ok(Date.now() - movedAt < 5000, `answered ${Date.now() - movedAt} ms after the clock passed ten minutes`);
      assert.equal(withdrawn(), 'no answer within 10 minutes', 'the client was told the question is cancelled');
      assert.equal(r.isError, true, resultText(r));
      assert.match(resultText(r), /did not answer within 10 minutes/);
      assert.match(resultText(r), /Nothing was restored/);
      assert.equal(asked.length, 1);
      await new Promise((res) => setTimeout(res, 1700)); // longer than the 1.5 s deferred delay
      assert.equal((await host.calls()).filter(isRestore).length, 0, 'no restore');
      assert.equal((await host.state()).restoredBackups.length, 0);
    } finally {
      await client.close().catch(() => {});
    }
  });

  test('a call the client gives up on withdraws the question it asked', async () => {
    const { client, asked, withdrawn } = await connectUnanswered();
    try {
      const b64 = await makeBackup(client);
      // The client's own request timeout cancels the call while the person is asked.
      await assert.rejects(restoreBackup(client, b64, { options: { timeout: 2000 } }), /timed out/i);
      assert.equal(asked.length, 1);
      await waitFor(() => withdrawn() !== undefined || null, { what: 'the question withdrawn' });
      assert.equal(withdrawn(), 'the call that asked it was cancelled');
      await new Promise((res) => setTimeout(res, 1700)); // longer than the 1.5 s deferred delay
      assert.equal((await host.calls()).filter(isRestore).length, 0, 'no restore');
    } finally {
      await client.close().catch(() => {});
    }
  });

  test('a person slower than the client\'s idle limit: keep-alive comments hold the stream', async () => {
    // Node's fetch cuts a response body that stays silent for 300 s (undici's bodyTimeout);
    // this client has the same limit at 20 s, and its person answers after 35 s.
    const { Agent, fetch: undiciFetch } = await import('undici');
    const dispatcher = new Agent({ bodyTimeout: 20_000 });
    const fetch = (url, init) => undiciFetch(url, { ...init, dispatcher });
    const { client, transport, asked } = await connectEliciting(async () => {
      await new Promise((res) => setTimeout(res, 35_000));
      return { action: 'decline' };
    }, { fetch });
    const streamErrors = [];
    transport.onerror = (e) => streamErrors.push(String(e));
    try {
      const b64 = await makeBackup(client);
      const { result: r } = await restoreBackup(client, b64); // the SDK's 60 s request timeout
      assert.deepEqual(streamErrors, [], 'the stream was not cut');
      assert.equal(asked.length, 1);
      assert.equal(r.isError, true, resultText(r));
      assert.match(resultText(r), /declined the restore/);
    } finally {
      await client.close().catch(() => {});
      await dispatcher.close();
    }
  });

  test('accept → the tool answers, then the restore runs', async () => {
    const { client, asked } = await connectEliciting((p) => ({ action: 'accept', content: acceptingContent(p.requestedSchema) }));
    try {
      const b64 = await makeBackup(client);
      // Staged in three chunks, as a large backup would be.
      const { result: r, chunks } = await restoreBackup(client, b64, { chunk: Math.ceil(Buffer.from(b64, 'base64').length / 3) });
      const answeredAt = Date.now();
      assert.equal(chunks, 3);
      assert.equal(asked.length, 1, 'asked once, on the call that restores');
      assert.notEqual(r.isError, true, resultText(r));
      assert.equal(r.structuredContent.status, 'scheduled');
      assert.equal((await host.calls()).filter(isRestore).length, 0, 'not restored yet when the answer arrived');
      const restores = await waitFor(async () => {
        const found = (await host.calls()).filter(isRestore);
        return found.length ? found : null;
      }, { what: 'the restore to run', timeoutMs: 10_000 });
      assert.equal(restores.length, 1, 'the restore ran once');
      const ran = restores[0];
      assert.ok(typeof ran.realAt === 'number', 'calls carry wall-clock timestamps');
      assert.ok(ran.realAt >= answeredAt, `restore ran at ${ran.realAt}, after the answer arrived at ${answeredAt}`);
      const state = await host.state();
      assert.equal(state.restoredBackups.length, 1, 'the dev host restored one backup');
      const bytes = Buffer.from(b64, 'base64');
      const sha = createHash('sha256').update(bytes).digest('hex');
      assert.equal(state.restoredBackups[0].sha256, sha, 'the restored bytes are exactly the backup');
      assert.equal(state.restoredBackups[0].bytes, bytes.length);
    } finally {
      await client.close().catch(() => {});
    }
  });
});
