// The packed package where merchants deploy besides Node: Cloudflare Workers (workerd, through
// Miniflare), Bun and Deno, each the real runtime from its npm package. In each, one scenario:
// every vendor refunded, an Affonso request signed (an emulator that checks signatures accepts
// it), a vendor webhook verified, a 401 and a timeout mapped to clawback's errors; from ESM, and
// from require() where the runtime has it. Deno runs it without --allow-env too, and workerd also
// serves a provider made at module scope to concurrent requests (its rate limiter must not
// resolve one request's promise from another's context, which workerd cancels).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const SIGNING_SECRET = 'whsec_consumer_signing_0001';
const WEBHOOK_SECRET = 'whsec_consumer_webhook_0001';

/** The scenario, as one async function of `job` and the imported entry points (`c`). */
const scenario = `async function scenario(job, c) {
  const out = { refunds: [] };
  for (const one of job.refunds) {
    const provider = c.factories[one.provider]({ apiKey: one.apiKey, baseURL: one.baseURL, ...(one.provider === 'firstpromoter' ? { accountId: one.accountId } : {}) });
    out.refunds.push(await c.refund({
      provider,
      conversionId: one.conversionId,
      ...(one.amount ? { amount: one.amount } : {}),
      ...(one.provider === 'firstpromoter' ? { customer: { uid: 'lead_' + one.conversionId } } : {}),
    }));
  }
  const signed = job.signed;
  const affonso = (settings) => c.factories.affonso({ apiKey: signed.apiKey, baseURL: signed.baseURL, maxRetries: 0, ...settings });
  out.signed = (await c.refund({ provider: affonso({ signingSecret: signed.secret }), conversionId: signed.conversionId, amount: signed.amount })).status;
  const failure = (error) => ({
    name: error.name,
    status: error.status,
    retryable: error.retryable,
    ambiguous: error.ambiguous,
    clawback: c.ClawbackError.isInstance(error),
    authentication: c.AuthenticationError.isInstance(error),
    timeout: c.TimeoutError.isInstance(error),
  });
  out.unsigned = await c.refund({ provider: affonso({}), conversionId: signed.conversionId, amount: signed.amount }).then(() => 'resolved', failure);
  const affixo = (settings) => c.factories.affixo({ baseURL: job.affixoBaseURL, maxRetries: 0, ...settings });
  out.unauthorized = await c.refund({ provider: affixo({ apiKey: 'sa_live_not_a_key_it_knows' }), conversionId: 'order_unknown' }).then(() => 'resolved', failure);
  out.timeout = await c.refund({ provider: affixo({ apiKey: job.affixoKey, timeout: 300 }), conversionId: job.slowId }).then(() => 'resolved', failure);
  const event = await c.verifyWebhook('refcampaign', { payload: job.webhook.payload, headers: { 'x-refcampaign-signature': job.webhook.header }, secret: job.webhook.secret });
  out.webhook = [event.type, c.verifyWebhookSignature({ secret: job.webhook.secret, payload: job.webhook.payload, header: job.webhook.header })];
  out.missingKey = await c.refund({ provider: c.factories.affixo({ baseURL: job.affixoBaseURL }), conversionId: 'order_x' }).then(() => 'resolved', (error) => error.name + ': ' + error.message);
  return out;
}`;

const esmImports = `import { refund, ClawbackError, AuthenticationError, TimeoutError } from 'clawback';
import { createAffixo } from 'clawback/affixo';
import { createAffonso } from 'clawback/affonso';
import { createRefCampaign } from 'clawback/refcampaign';
import { createFirstPromoter } from 'clawback/firstpromoter';
import { verifyWebhook } from 'clawback/webhooks';
import { verifyWebhookSignature } from 'clawback/compat/refcampaign';
const c = { refund, ClawbackError, AuthenticationError, TimeoutError, verifyWebhook, verifyWebhookSignature,
  factories: { affixo: createAffixo, affonso: createAffonso, refcampaign: createRefCampaign, firstpromoter: createFirstPromoter } };`;

const cjsImports = `const { refund, ClawbackError, AuthenticationError, TimeoutError } = require('clawback');
const c = { refund, ClawbackError, AuthenticationError, TimeoutError,
  verifyWebhook: require('clawback/webhooks').verifyWebhook,
  verifyWebhookSignature: require('clawback/compat/refcampaign').verifyWebhookSignature,
  factories: {
    affixo: require('clawback/affixo').createAffixo,
    affonso: require('clawback/affonso').createAffonso,
    refcampaign: require('clawback/refcampaign').createRefCampaign,
    firstpromoter: require('clawback/firstpromoter').createFirstPromoter,
  } };`;

/** Bun and Deno: the job from the command line, the outcome printed as JSON. */
const argv = `(globalThis.Deno ? Deno.args[0] : process.argv[2])`;
const cliProgram = {
  esm: `${esmImports}\n${scenario}\nconsole.log(JSON.stringify(await scenario(JSON.parse(${argv}), c)));\n`,
  cjs: `${cjsImports}\n${scenario}\nscenario(JSON.parse(${argv}), c).then((out) => console.log(JSON.stringify(out)), (error) => { console.error(error); process.exitCode = 1; });\n`,
};

/** workerd: the job in the request body, the outcome in the response; and what the global scope lacks. */
const workerProgram = `${esmImports}\n${scenario}
export default {
  async fetch(request) {
    let evalRefused = false;
    try { (0, eval)('1'); } catch { evalRefused = true; }
    const out = await scenario(await request.json(), c);
    out.globals = [typeof globalThis.process, typeof globalThis.Buffer, typeof globalThis.require].join();
    out.evalRefused = evalRefused;
    return Response.json(out);
  },
};`;

/** A provider at module scope, shared by every request, with a limit that makes them queue. */
const moduleScopeWorker = `import { refund } from 'clawback';
import { createAffixo } from 'clawback/affixo';
let provider;
export default {
  async fetch(request, env) {
    provider ??= createAffixo({ apiKey: env.KEY, baseURL: env.BASE, rateLimit: { limit: 1, interval: 100 } });
    const result = await refund({ provider, conversionId: new URL(request.url).searchParams.get('id') });
    return Response.json({ conversionId: result.conversionId, status: result.status });
  },
};`;

/**
 * Registers the runtime checks. `seedJob(provider)` gives a fresh conversion's refund job and
 * `assertRefundedOnce(job, result)` checks it was applied once; `emulator` is the running one.
 */
export async function runtimeChecks({ check, app, repo, emulator, seedJob, assertRefundedOnce, startEmulator, EMULATOR_API_KEYS }) {
  const bin = (name) => join(repo, 'node_modules/.bin', name);
  const signing = await startEmulator({ affonsoSigningSecret: SIGNING_SECRET });
  let slowCount = 0;

  /** One run's job: fresh conversions on both emulators, a slow Affixo conversion, a signed webhook. */
  function scenarioJob() {
    const refunds = ['affixo', 'affonso', 'refcampaign', 'firstpromoter'].map(seedJob);
    const signedId = `com_signed_${(slowCount += 1)}`;
    signing.emulator.seed({ affonso: [{ id: signedId, sale: { value: 10_000, currency: 'USD' } }] });
    const slowId = `order_slow_${slowCount}`;
    emulator.emulator.seed({ affixo: [{ id: slowId, sale: { value: 1_000, currency: 'USD' } }] });
    emulator.emulator.inject({ provider: 'affixo', conversionId: slowId, delay: 3_000 });
    const payload = JSON.stringify({ event: 'conversion.refunded', data: { externalId: 'order_1' }, idempotencyKey: `k${slowCount}` });
    const t = Math.floor(Date.now() / 1000);
    const header = `t=${t},v1=${createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${payload}`).digest('hex')}`;
    return {
      refunds,
      signed: { apiKey: EMULATOR_API_KEYS.affonso, baseURL: signing.baseURLs.affonso, conversionId: signedId, secret: SIGNING_SECRET, amount: { value: 2_500, currency: 'USD' } },
      affixoBaseURL: emulator.baseURLs.affixo,
      affixoKey: EMULATOR_API_KEYS.affixo,
      slowId,
      webhook: { payload, header, secret: WEBHOOK_SECRET },
    };
  }

  /** What every runtime must have done with the scenario. */
  function assertScenario(job, out, { envRefused = false } = {}) {
    assert.equal(out.refunds.length, 4);
    job.refunds.forEach((one, index) => assertRefundedOnce(one, JSON.stringify(out.refunds[index])));
    assert.equal(out.signed, 'partially_refunded');
    assert.equal(signing.ledger.refunds({ provider: 'affonso' }).filter((entry) => entry.conversionId === job.signed.conversionId).length, 1);
    assert.deepEqual(out.unsigned, { name: 'AuthenticationError', status: 401, retryable: false, ambiguous: false, clawback: true, authentication: true, timeout: false });
    assert.deepEqual(out.unauthorized, { name: 'AuthenticationError', status: 401, retryable: false, ambiguous: false, clawback: true, authentication: true, timeout: false });
    assert.deepEqual(out.timeout, { name: 'TimeoutError', retryable: true, ambiguous: true, clawback: true, authentication: false, timeout: true });
    assert.deepEqual(out.webhook, ['conversion.refunded', true]);
    assert.match(out.missingKey, /^ValidationError: createAffixo\(\) settings: apiKey: is missing: pass apiKey to createAffixo\(\) or set the AFFIXO_API_KEY environment variable/);
    if (envRefused) assert.match(out.missingKey, /did not let clawback read .*run with --allow-env=AFFIXO_API_KEY$/);
  }

  writeFileSync(join(app, 'scenario.mjs'), cliProgram.esm);
  writeFileSync(join(app, 'scenario.cjs'), cliProgram.cjs);
  const runCli = async (command, args) => {
    const job = scenarioJob();
    const { stdout } = await execFileAsync(command, [...args, JSON.stringify(job)], { cwd: app, timeout: 60_000 });
    return { job, out: JSON.parse(stdout.trim().split('\n').at(-1)) };
  };

  // ---- Bun --------------------------------------------------------------------------------------
  for (const [name, file] of [['ESM', 'scenario.mjs'], ['require()', 'scenario.cjs']]) {
    await check(`Bun, ${name}: every vendor refunded once, Affonso signed, webhook verified, 401 and timeout mapped`, async () => {
      const { job, out } = await runCli(bin('bun'), ['run', file]);
      assertScenario(job, out);
    });
  }

  // ---- Deno -------------------------------------------------------------------------------------
  const deno = (permissions, file) => runCli(bin('deno'), ['run', '--quiet', ...permissions, file]);
  for (const [name, permissions, file, envRefused] of [
    ['ESM, --allow-env', ['--allow-net=127.0.0.1', '--allow-env'], 'scenario.mjs', false],
    ['require(), --allow-env', ['--allow-net=127.0.0.1', '--allow-env', '--allow-read'], 'scenario.cjs', false],
    ['ESM, without --allow-env', ['--allow-net=127.0.0.1'], 'scenario.mjs', true],
  ]) {
    await check(`Deno, ${name}: every vendor refunded once, Affonso signed, webhook verified, 401 and timeout mapped`, async () => {
      const { job, out } = await deno(permissions, file);
      assertScenario(job, out, { envRefused });
    });
  }

  // ---- workerd (Miniflare) ----------------------------------------------------------------------
  const { build } = await import('esbuild');
  const { Miniflare } = await import('miniflare');
  /** Bundled from the installed package as Wrangler does for Workers (workerd/worker/browser conditions). */
  const bundle = async (contents) =>
    (
      await build({
        stdin: { contents, resolveDir: app, sourcefile: 'worker.mjs' },
        bundle: true,
        format: 'esm',
        platform: 'neutral',
        conditions: ['workerd', 'worker', 'browser'],
        mainFields: ['module', 'main'],
        write: false,
        logLevel: 'silent',
      })
    ).outputFiles[0].text;
  /** A Miniflare instance for `script`, with what workerd itself prints kept in `output()`. */
  const worker = async (script, bindings = {}) => {
    let printed = '';
    const mf = new Miniflare({
      modules: true,
      script: await bundle(script),
      compatibilityDate: '2026-07-01',
      bindings,
      handleRuntimeStdio(stdout, stderr) {
        stdout.on('data', (chunk) => (printed += chunk));
        stderr.on('data', (chunk) => (printed += chunk));
      },
    });
    await mf.ready;
    return { mf, output: () => printed };
  };

  await check('workerd, ESM (no process, Buffer or require; eval refused): every vendor refunded once, Affonso signed, webhook verified, 401 and timeout mapped', async () => {
    const { mf } = await worker(workerProgram);
    try {
      const job = scenarioJob();
      const response = await mf.dispatchFetch('http://worker/', { method: 'POST', body: JSON.stringify(job) });
      const out = await response.json();
      assert.equal(response.status, 200, JSON.stringify(out));
      assert.equal(out.globals, 'undefined,undefined,undefined');
      assert.equal(out.evalRefused, true);
      assertScenario(job, out);
    } finally {
      await mf.dispose();
    }
  });

  await check('workerd: a provider at module scope serves concurrent requests through its rate limiter, none crossing request contexts', async () => {
    const ids = Array.from({ length: 6 }, (_, index) => `order_module_scope_${index}`);
    emulator.emulator.seed({ affixo: ids.map((id) => ({ id, sale: { value: 1_000, currency: 'USD' } })) });
    const { mf, output } = await worker(moduleScopeWorker, { KEY: EMULATOR_API_KEYS.affixo, BASE: emulator.baseURLs.affixo });
    try {
      const answers = await Promise.all(
        ids.map((id) =>
          Promise.race([
            mf.dispatchFetch(`http://worker/?id=${id}`).then((response) => response.json()),
            new Promise((resolve) => setTimeout(() => resolve('no answer within 10 s'), 10_000)),
          ]),
        ),
      );
      assert.deepEqual(answers, ids.map((conversionId) => ({ conversionId, status: 'refunded' })));
      assert.doesNotMatch(output(), /different request context/);
    } finally {
      await mf.dispose();
    }
  });

  await signing.close();
}
