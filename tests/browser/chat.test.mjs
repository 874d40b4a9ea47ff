// The chat demo in a real browser: Debian's headless Chromium, driven by playwright-core, opens
// two chat pages and the admin page, and checks what each one shows as people talk, type,
// change rooms, get an announcement and get kicked. Screenshots go to target/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { ROOT, TARGET, startServer } from '../e2e/lib/server.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN_TOKEN = 'browser-test-token';
/** Upper bound for every single wait (the admin page refreshes its stats every 2 s). */
const WAIT_MS = 6000;
const SCREENSHOTS = path.join(ROOT, 'target');

const skip = TARGET === 'node' ? 'the chat demo has no Node twin' : false;

describe('chat demo in Chromium', { skip }, () => {
  let server;
  let profile;
  let browser;
  let alice;
  let bob;
  let admin;
  const problems = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/test.sh installs Debian's chromium`);
    server = await startServer('chat', { ADMIN_TOKEN });
    profile = await mkdtemp(path.join(os.tmpdir(), 'roomcast-chromium-'));
    // launchPersistentContext passes the fresh profile as --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 720 },
      timeout: 30_000,
    });
    browser.setDefaultTimeout(WAIT_MS);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** A new page that records its script errors and console errors (CSP violations included). */
  async function open(pathname) {
    const page = await browser.newPage();
    page.on('pageerror', (error) => problems.push(`${pathname}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`${pathname}: ${message.text()}`);
    });
    await page.goto(server.url + pathname);
    return page;
  }

  // Actions bring their page to the front first, as a person switches tabs: Chromium renders
  // the pages behind only now and then, and a click waits for the page to render.
  async function click(page, selector) {
    await page.bringToFront();
    await page.click(selector);
  }

  async function type(page, selector, text) {
    await page.bringToFront();
    await page.locator(selector).pressSequentially(text);
  }

  async function submit(page, selector, text) {
    await page.bringToFront();
    await page.fill(selector, text);
    await page.press(selector, 'Enter');
  }

  async function signIn(username) {
    const page = await open('/');
    await submit(page, '#username', username);
    await page.locator('#app').waitFor();
    await page.locator('#room-name', { hasText: /^general$/ }).waitFor();
    return page;
  }

  const shows = (page, selector, text) => page.locator(selector, { hasText: text }).first().waitFor();
  const count = (page, room) => page.locator(`#rooms li[data-room="${room}"] .count`);
  const names = (page) => page.locator('#users li .name').allTextContents();

  async function send(page, text) {
    await submit(page, '#text', text);
    await shows(page, '#messages li.message .text', text);
  }

  it('two people join general and see each other', async () => {
    alice = await signIn('alice');
    bob = await signIn('bob');
    await shows(alice, '#messages li.notice', 'bob joined general');
    await count(alice, 'general').filter({ hasText: /^2$/ }).waitFor();
    await alice.locator('#users li').nth(1).waitFor();
    assert.deepEqual((await names(alice)).sort(), ['alice', 'bob']);
    await bob.locator('#users li').nth(1).waitFor();
    assert.deepEqual((await names(bob)).sort(), ['alice', 'bob']);
    assert.equal(await alice.locator('#status-text').textContent(), 'online');
    for (const room of ['general', 'tech', 'random']) await count(bob, room).waitFor();
  });

  it('typing shows on the other page, and the message on both', async () => {
    await type(bob, '#text', 'Hello fr');
    await shows(alice, '#typing', 'bob is typing…');
    assert.equal(await bob.locator('#typing').textContent(), '');
    await type(bob, '#text', 'om bob');
    await bob.press('#text', 'Enter');
    await shows(alice, '#messages li.message .text', 'Hello from bob');
    await shows(bob, '#messages li.message.mine .text', 'Hello from bob');
    await alice.locator('#typing', { hasText: /^$/ }).waitFor();
    assert.equal(await alice.locator('#messages li.message .author').last().textContent(), 'bob');
  });

  it('a room switch moves bob, updates the counts, and messages stay in their room', async () => {
    await click(bob, '#rooms li[data-room="tech"] button');
    await bob.locator('#room-name', { hasText: /^tech$/ }).waitFor();
    await shows(alice, '#messages li.notice', 'bob left general');
    await count(alice, 'general').filter({ hasText: /^1$/ }).waitFor();
    await count(alice, 'tech').filter({ hasText: /^1$/ }).waitFor();
    await bob.locator('#rooms li.current[data-room="tech"]').waitFor();

    await send(bob, 'Anyone into Rust?');
    await send(alice, 'Quiet in here');
    // Each one's own later message is the sentinel for what the other sent before it.
    await send(bob, 'Guess not');
    assert.equal(await alice.locator('#messages', { hasText: 'Anyone into Rust?' }).count(), 0);
    assert.equal(await bob.locator('#messages', { hasText: 'Quiet in here' }).count(), 0);
    await bob.locator('#users li').first().waitFor();
    assert.deepEqual(await names(bob), ['bob']);
    await alice.waitForFunction(() => document.querySelectorAll('#users li').length === 1);
    assert.deepEqual(await names(alice), ['alice']);
  });

  it('the admin page shows live stats', async () => {
    admin = await open(`/admin#token=${ADMIN_TOKEN}`);
    await admin.locator('#dashboard').waitFor();
    assert.equal(new URL(admin.url()).hash, '', 'the token leaves the address bar');
    await admin.locator('#chat-users', { hasText: /^2$/ }).waitFor();
    await admin.locator('#admin-users', { hasText: /^1$/ }).waitFor();
    await admin.locator('#room-rows tr[data-room="tech"] .members', { hasText: /^1$/ }).waitFor();
    await admin.locator('#room-rows tr[data-room="general"] .members', { hasText: /^1$/ }).waitFor();
    // A new room shows up at the next refresh.
    await submit(alice, '#new-room-name', 'rust-lang');
    await alice.locator('#room-name', { hasText: /^rust-lang$/ }).waitFor();
    await admin.locator('#room-rows tr[data-room="rust-lang"] .members', { hasText: /^1$/ }).waitFor();
    await admin.locator('#room-rows tr[data-room="general"] .members', { hasText: /^0$/ }).waitFor();
    await admin.locator('#active-rooms', { hasText: /^2$/ }).waitFor();
    await count(bob, 'rust-lang').filter({ hasText: /^1$/ }).waitFor();
  });

  it('both go back to general, talk, and get an announcement (screenshots in target/)', async () => {
    await click(alice, '#rooms li[data-room="general"] button');
    await click(bob, '#rooms li[data-room="general"] button');
    await shows(alice, '#messages li.notice', 'bob joined general');
    await send(alice, 'Welcome back! How was #tech?');
    await shows(bob, '#messages li.message .text', 'Welcome back! How was #tech?');
    await send(bob, 'Quiet. roomcast kept #tech and #general apart, as it should.');
    await shows(alice, '#messages li.message .text', 'as it should');

    await submit(admin, '#announce-text', 'Maintenance at noon, back in five minutes');
    await shows(alice, '#messages li.announcement', 'Maintenance at noon');
    await shows(bob, '#messages li.announcement', 'Maintenance at noon');
    await shows(admin, '#log li', 'Announced: Maintenance at noon');

    await send(alice, 'Thanks for the heads-up!');
    await shows(bob, '#messages li.message .text', 'Thanks for the heads-up!');
    await type(bob, '#text', 'Next up: ');
    await shows(alice, '#typing', 'bob is typing…');
    await alice.waitForFunction(() => document.querySelectorAll('#users li').length === 2);
    await count(alice, 'general').filter({ hasText: /^2$/ }).waitFor();
    await mkdir(SCREENSHOTS, { recursive: true });
    await alice.bringToFront();
    await alice.screenshot({ path: path.join(SCREENSHOTS, 'chat-demo.png') });
    await admin.locator('#room-rows tr[data-room="general"] .members', { hasText: /^2$/ }).waitFor();
    await admin.bringToFront();
    await admin.screenshot({ path: path.join(SCREENSHOTS, 'chat-demo-admin.png') });
  });

  it('an invalid room name is refused with a message', async () => {
    await submit(alice, '#new-room-name', '-nope');
    await shows(alice, '#toast', 'Room names are');
    await alice.locator('#room-name', { hasText: /^general$/ }).waitFor();
    await alice.locator('#toast').waitFor({ state: 'hidden' });
  });

  it('kicking a room disconnects its pages, and the stats follow', async () => {
    await click(admin, '#room-rows tr[data-room="general"] button');
    await shows(alice, '#banner', 'You were disconnected by an admin.');
    await shows(bob, '#banner', 'You were disconnected by an admin.');
    await alice.locator('#status-text', { hasText: 'offline' }).waitFor();
    await admin.locator('#chat-users', { hasText: /^0$/ }).waitFor();
    // Rejoining puts alice back in general.
    await click(alice, '#rejoin');
    await alice.locator('#status-text', { hasText: 'online' }).waitFor();
    await admin.locator('#chat-users', { hasText: /^1$/ }).waitFor();
  });

  it('no page logged an error', () => {
    assert.deepEqual(problems, []);
  });
});
