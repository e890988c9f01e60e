import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import OpenAI from 'openai';
import { chromium, type Browser } from 'playwright-core';
import { AdminClient, OpenAIUpstream, ROOT, startConnectorProc, startDevStack, eventually, type DevStack, type Proc } from '../support/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'ta-test-operator-token-dashboard-0123456789';

if (!existsSync(CHROMIUM)) {
  const msg = `dashboard test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  process.stdout.write(`# ${msg}\n`);
  t.pass(msg);
} else {
  let stack: DevStack;
  let browser: Browser;
  let up: OpenAIUpstream;
  let conn: Proc | undefined;

  t.before(async () => {
    stack = await startDevStack([], { TOKIOS_ADMIN_TOKEN: ADMIN });
    up = await OpenAIUpstream.start('qwen2.5-7b-instruct');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  t.teardown(async () => {
    await browser?.close();
    await conn?.kill();
    await up?.close();
    await stack?.close();
  });

  t.test('log in, create a key, a deployment and a token, see the connector online, revoke the key', async (t) => {
    const base = `http://127.0.0.1:${stack.dev.port}`;
    const op = new AdminClient(base, { bearer: ADMIN });
    const tenantId = (await op.post('/tenants', { name: 'acme-labs' })).body.tenant.id as string;
    const consoleSecret = (await op.post(`/tenants/${tenantId}/console-secret`)).body.secret as string;
    // a day of earlier traffic, so the usage chart has something to draw
    const hour = 3_600_000;
    const now = Date.now();
    await stack.dev.store.recordUsage(
      Array.from({ length: 24 * 6 }, (_, i) => {
        const h = Math.floor(i / 6);
        return {
          id: `seed-${i}`, at: new Date(now - (23 - h) * hour - (i % 6) * 60_000).toISOString(), tenantId, keyId: 'key_seed', deploymentId: 'dep_seed',
          connectorId: 'con_seed', protocol: 'openai.chat' as const, stream: true, status: i % 17 === 0 ? 502 : 200,
          inputTokens: 40 + ((i * 37) % 90), outputTokens: 80 + ((i * 53) % 200), ttftMs: 120, durationMs: 900,
        };
      }).filter((_, i) => (Math.floor(i / 6) * 7) % 5 !== 0 || i % 3 === 0),
    );

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const failedRequests: string[] = [];
    page.on('requestfailed', (r) => failedRequests.push(r.url()));
    page.on('request', (r) => {
      if (!r.url().startsWith(base)) failedRequests.push(`external: ${r.url()}`);
    });
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${base}/dashboard`);

    await page.locator('#login-secret').fill('tc-tokios-wrong');
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('#login-error', { hasText: 'Invalid console secret' }).waitFor();
    await page.locator('#login-secret').fill(consoleSecret);
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('#tenant-name', { hasText: 'acme-labs' }).waitFor();
    t.pass('logged in');

    // API key, shown once
    await page.locator('#key-name').fill('dashboard-key');
    await page.locator('#key-form button[type=submit]').click();
    await page.locator('#shown-once-secret', { hasText: 'sk-tokios-' }).waitFor();
    const apiKey = (await page.locator('#shown-once-secret').textContent())!;
    t.match(apiKey, /^sk-tokios-[A-Za-z0-9]{40}$/);
    await page.locator('#shown-once-close').click();
    const keyRow = page.locator('tr[data-key]', { hasText: 'dashboard-key' });
    await keyRow.waitFor();
    t.equal(await keyRow.locator('code').textContent(), `${apiKey.slice(0, 14)}…`, 'listed by prefix only');
    t.notOk((await page.content()).includes(apiKey), 'the secret is gone from the page once dismissed');

    // deployment and tunnel token
    await page.locator('#deployment-name').fill('qwen');
    await page.locator('#deployment-form button[type=submit]').click();
    const card = page.locator('[data-deployment="qwen"]');
    await card.waitFor();
    await card.locator('[data-status="offline"]').waitFor();
    await card.locator('button[data-action="new-token"]').click();
    await page.locator('#shown-once-secret', { hasText: 'tt-tokios-' }).waitFor();
    const tunnelToken = (await page.locator('#shown-once-secret').textContent())!;
    t.match(tunnelToken, /^tt-tokios-/);

    // a connector process with that token goes online in the page
    conn = await startConnectorProc({ tunnel_token: tunnelToken, upstream: up.url, gateway: stack.gateway, model: up.model });
    await card.locator('[data-status="online"]').waitFor({ timeout: 10_000 });
    await card.locator('[data-connector]', { hasText: 'qwen2.5-7b-instruct' }).waitFor();
    t.pass('the deployment shows online with its connector');

    const client = new OpenAI({ apiKey, baseURL: stack.baseURL, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'qwen', messages: [{ role: 'user', content: 'hello' }] });
    t.equal(res.choices[0]?.message.content, 'Hello, world!', 'the new key calls the new deployment');

    // an alias over the deployment and a second one: a bad target is refused naming the field, a good one is listed
    // with each target's state, serves calls (the header names the deployment), is edited and deleted from the page
    await page.locator('#deployment-name').fill('qwen-small');
    await page.locator('#deployment-form button[type=submit]').click();
    await page.locator('[data-deployment="qwen-small"]').waitFor();
    await page.locator('#alias-name').fill('coder');
    await page.locator('#alias-targets').fill('nope qwen');
    await page.locator('#alias-form button[type=submit]').click();
    await page.locator('#flash', { hasText: 'body.targets.0' }).waitFor();
    t.match(await page.locator('#flash').textContent(), /no deployment `nope`/, 'a bad target is named in the error');
    await page.locator('#alias-targets').fill('qwen qwen-small');
    await page.locator('#alias-form button[type=submit]').click();
    const aliasRow = page.locator('tr[data-alias="coder"]');
    await aliasRow.locator('[data-target="qwen"] .pill.online').waitFor();
    await aliasRow.locator('[data-target="qwen-small"]', { hasText: 'offline' }).waitFor();
    t.pass('the alias is listed with its targets in order and their state');
    const viaAlias = await client.chat.completions.create({ model: 'coder', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    t.equal(viaAlias.response.headers.get('tokios-deployment'), 'qwen', 'a call through the alias names the deployment that served');
    const models = await client.models.list();
    t.ok(models.data.some((m) => m.id === 'coder'), '/v1/models lists the alias');
    await aliasRow.locator('button[data-action="edit-alias"]').click();
    await aliasRow.locator('input[aria-label="targets"]').fill('qwen-small qwen');
    await aliasRow.locator('input[aria-label="weights"]').fill('1 3');
    await aliasRow.locator('form button[type=submit]').click();
    await page.locator('tr[data-alias="coder"] td', { hasText: 'weighted' }).waitFor();
    t.match(await page.locator('tr[data-alias="coder"] td.targets').textContent(), /qwen-small ×1.*qwen ×3/, 'edited into a weighted set');

    // an invite, so every section has something in it; then the screenshot for the README
    await card.locator('form button[type=submit]', { hasText: 'Create invite' }).click();
    await page.locator('#shown-once-secret', { hasText: 'ti-tokios-' }).waitFor();
    await page.locator('#shown-once-close').click();
    await page.locator('#usage-chart svg rect.bar').first().waitFor();
    // UPDATE_SCREENSHOT=1 refreshes the README's docs/dashboard.png; otherwise a temp file, so runs leave the tree clean.
    const shot = process.env.UPDATE_SCREENSHOT === '1' ? join(ROOT, 'docs/dashboard.png') : join(tmpdir(), `tokios-dashboard-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true });

    await page.locator('tr[data-alias="coder"] button[data-action="delete-alias"]').click();
    await page.locator('#aliases td.empty').waitFor();
    t.pass('the alias is deleted from the page');

    // revoke the key from the page; calls with it fail
    await keyRow.locator('button[data-action="revoke-key"]').click();
    await page.locator('tr.revoked[data-key]', { hasText: 'dashboard-key' }).waitFor();
    const status = await eventually('calls with the revoked key fail', async () => {
      const s = await client.chat.completions.create({ model: 'qwen', messages: [{ role: 'user', content: 'x' }] }).then(
        () => 200,
        (e: { status?: number }) => e.status ?? -1,
      );
      return s === 401 ? s : undefined;
    }, 5_000);
    t.equal(status, 401);
    t.same(failedRequests, [], 'no failed or external requests from the page');
    await page.close();
  });
}
