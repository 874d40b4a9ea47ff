// The HTTP side of the chat demo (pages, the official client bundle next to Socket.IO) and its
// logs: one line per membership change and per room emit.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ROOT } from '../lib/server.mjs';
import { SKIP, closeAll, joinAdmin, joinChat, received, startChat, unique, waitUntil } from './helpers.mjs';

describe('chat: web pages and logs', { skip: SKIP }, () => {
  let server;
  before(async () => {
    server = await startChat();
  });
  after(() => server?.stop());
  afterEach(closeAll);

  for (const [page, title] of [['/', 'roomcast chat'], ['/admin', 'roomcast chat · admin']]) {
    it(`serves ${page} with the official client and its own script`, async () => {
      const response = await fetch(server.url + page);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type'), /^text\/html/);
      const html = await response.text();
      assert.ok(html.includes(`<title>${title}</title>`));
      assert.ok(html.includes('<script src="/socket.io/socket.io.min.js"></script>'));
      for (const [, asset] of html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) {
        const loaded = await fetch(server.url + asset);
        assert.equal(loaded.status, 200, asset);
      }
    });
  }

  it('serves the client bundle from node_modules, as Node’s server does, beside Socket.IO', async () => {
    const expected = await readFile(path.join(ROOT, 'node_modules/socket.io-client/dist/socket.io.min.js'));
    const response = await fetch(`${server.url}/socket.io/socket.io.min.js`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /javascript/);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(expected));
    const handshake = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    assert.match(await handshake.text(), /^0\{.*"sid":/);
  });

  it('answers 404 elsewhere', async () => {
    assert.equal((await fetch(`${server.url}/nothing-here`)).status, 404);
  });

  it('logs each membership change and each room emit on one line', async () => {
    const alice = await joinChat(server.url, unique('alice'));
    const bob = await joinChat(server.url, unique('bob'));
    const [aliceId, bobId] = [alice.id, bob.id]; // the client forgets its id on disconnecting
    const room = unique('room');
    bob.emit('switchRoom', room);
    await received(bob, 'roomChanged');
    bob.emit('message', 'logged');
    await received(bob, 'message');
    const admin = await joinAdmin(server.url);
    admin.emit('announce', 'hello all');
    await received(alice, 'announcement');
    bob.disconnect();
    await received(alice, 'notification', (text) => text.includes('left'));

    const lines = [
      `socket ${aliceId} joined room "general"`,
      `socket ${bobId} joined room "general"`,
      `emit "notification" -> room "general"`,
      `socket ${bobId} left room "general"`,
      `socket ${bobId} joined room "${room}"`,
      `emit "message" -> room "${room}" (1 member)`,
      `emit "announcement" -> namespace "/chat"`,
      `socket ${bobId} left room "${room}" (client namespace disconnect)`,
    ];
    // Without colour codes, whether or not the server writes them.
    const logs = () => server.output().replace(/\x1b\[[0-9;]*m/g, '');
    for (const line of lines) {
      await waitUntil(() => logs().includes(line), `the log line ${line}\n${logs()}`);
    }
  });
});
