// The official Socket.IO Admin UI, served by the chat demo at /admin-ui/, in Debian's headless
// Chromium driven by playwright-core: log in (a wrong password first), watch the chat's sockets
// and rooms change as test clients (socket.io-client) come, move and go, and disconnect one
// from the UI. Screenshots go to target/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';

import { closeAll, disconnection, joinChat, switchTo, unique } from '../e2e/chat/helpers.mjs';
import { ROOT, TARGET, startServer } from '../e2e/lib/server.mjs';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'browser-admin-ui-password';
/** Upper bound for every single wait. */
const WAIT_MS = 6000;
const SCREENSHOTS = path.join(ROOT, 'target');

const skip = TARGET === 'node' ? 'the chat demo has no Node twin' : false;

describe('the Admin UI served by the chat demo, in Chromium', { skip }, () => {
  let server;
  let profile;
  let browser;
  let page;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/test.sh installs Debian's chromium`);
    server = await startServer('chat', { ADMIN_UI_PASSWORD: PASSWORD, RECOVERY_WINDOW_MS: '300' });
    profile = await mkdtemp(path.join(os.tmpdir(), 'roomcast-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 800 },
      timeout: 30_000,
    });
    browser.setDefaultTimeout(WAIT_MS);
    // The page links web fonts and icons from CDNs; this machine has no network beyond loopback.
    await browser.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
    page = await browser.newPage();
    await page.goto(`${server.url}/admin-ui/`);
  });

  after(async () => {
    closeAll();
    await browser?.close();
    await server?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** Fills the connection form (server URL, user, password, admin namespace) and submits it. */
  async function logIn(password) {
    const inputs = page.locator('.v-dialog input');
    await inputs.nth(0).fill(server.url);
    await inputs.nth(1).fill('admin');
    await inputs.nth(2).fill(password);
    const advanced = page.locator('.v-dialog .v-input--switch input').first();
    if (!(await advanced.isChecked())) await advanced.click({ force: true });
    // Advanced options: WebSocket only, namespace, path, parser.
    const namespace = page.locator('.v-dialog input[type=text]').nth(2);
    await namespace.fill('/admin-ui');
    await page.click('.v-dialog button[type=submit]');
  }

  /** Picks `name` in the namespace selector of the current page. */
  async function selectNamespace(name) {
    // The page's own selector, not the language one of the navigation drawer.
    await page.locator('main .v-select').first().click();
    await page.locator('.menuable__content__active .v-list-item', { hasText: new RegExp(`^${name}$`) }).click();
  }

  const row = (text) => page.locator('tbody tr', { hasText: text });

  it('refuses a wrong password, then logs in', async () => {
    await page.locator('.v-dialog input').first().waitFor();
    await logIn('not-the-password');
    await page.getByText('Invalid credentials').waitFor();
    await logIn(PASSWORD);
    await page.locator('.v-dialog').waitFor({ state: 'hidden' });
    // The dashboard shows this server, healthy, from its server_stats.
    await page.goto(`${server.url}/admin-ui/#/servers/`);
    await page.locator('tbody tr').first().waitFor();
  });

  it('shows the chat\'s sockets and rooms change, and disconnects a socket', async () => {
    const alice = await joinChat(server.url, unique('alice'));
    const bob = await joinChat(server.url, unique('bob'));

    await page.goto(`${server.url}/admin-ui/#/sockets/`);
    await selectNamespace('/chat');
    await row(alice.id).waitFor();
    await row(bob.id).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-ui-sockets.png') });

    const room = unique('room');
    await switchTo(bob, room);
    await page.goto(`${server.url}/admin-ui/#/rooms/`);
    await row('general').waitFor();
    await row(room).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-ui-rooms.png') });
    await switchTo(bob, 'general');
    await row(room).waitFor({ state: 'detached' });

    await page.goto(`${server.url}/admin-ui/#/sockets/`);
    const aliceId = alice.id;
    alice.disconnect();
    await row(aliceId).waitFor({ state: 'detached' });

    const kicked = disconnection(bob);
    await row(bob.id).locator('button').click();
    assert.equal(await kicked, 'io server disconnect');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-ui-after-disconnect.png') });
  });
});
