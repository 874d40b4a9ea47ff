// Connecting to the chat demo: the username middleware of /chat, the token middleware of
// /admin, the lobby every chat socket starts in, and the start-up lines the server prints.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ADMIN_TOKEN,
  SKIP,
  ask,
  barrier,
  closeAll,
  joinAdmin,
  joinChat,
  received,
  refusal,
  seen,
  startChat,
  unique,
  waitUntil,
} from './helpers.mjs';

describe('chat: connecting', { skip: SKIP }, () => {
  let server;
  before(async () => {
    server = await startChat();
  });
  after(() => server?.stop());
  afterEach(closeAll);

  describe('/chat needs a username of 1 to 32 printable characters', () => {
    const refused = [
      ['no auth at all', undefined],
      ['no username', {}],
      ['an empty username', { username: '' }],
      ['a username of spaces', { username: '   ' }],
      ['a username of 33 characters', { username: 'x'.repeat(33) }],
      ['a number', { username: 42 }],
      ['null', { username: null }],
      ['an object', { username: { name: 'alice' } }],
      ['a control character', { username: 'bad\nname' }],
      ['a bidirectional override', { username: 'evil\u202Etxt' }],
    ];
    for (const [what, auth] of refused) {
      it(`refuses ${what} with "username required"`, async () => {
        assert.equal(await refusal(server.url, '/chat', auth), 'username required');
      });
    }

    it('accepts 32 characters, any script, and trims surrounding spaces', async () => {
      for (const name of ['y'.repeat(32), 'Zoë 名前 🚀', `  ${unique('padded')}  `]) {
        const socket = await joinChat(server.url, name);
        const users = await ask(socket, 'listUsers');
        assert.deepEqual(
          users.filter((user) => user.id === socket.id),
          [{ id: socket.id, username: name.trim() }],
        );
      }
    });
  });

  describe('/admin needs the admin token', () => {
    const refused = [
      ['no auth at all', undefined],
      ['no token', {}],
      ['a wrong token', { token: 'nope' }],
      ['the token with a character more', { token: `${ADMIN_TOKEN}x` }],
      ['a number', { token: 1 }],
      ['a chat username', { username: 'alice' }],
    ];
    for (const [what, auth] of refused) {
      it(`refuses ${what} with "unauthorized"`, async () => {
        assert.equal(await refusal(server.url, '/admin', auth), 'unauthorized');
      });
    }

    it('accepts the token', async () => {
      const admin = await joinAdmin(server.url);
      assert.equal(admin.connected, true);
    });
  });

  it('puts a new socket in general and tells the members of general', async () => {
    const alice = await joinChat(server.url, unique('alice'));
    const bobName = unique('bob');
    const bob = await joinChat(server.url, bobName);
    assert.deepEqual(await received(alice, 'notification', (text) => text === `${bobName} joined general`), [
      `${bobName} joined general`,
    ]);
    const users = await ask(bob, 'listUsers');
    assert.ok(users.some((user) => user.id === alice.id));
    assert.ok(users.some((user) => user.id === bob.id && user.username === bobName));
    // The newcomer is not told about itself.
    await barrier(bob);
    assert.deepEqual(seen(bob, 'notification', (text) => text.startsWith(bobName)), []);
  });

  it('lets the same client be in /chat and /admin over one connection', async () => {
    const chat = await joinChat(server.url, unique('multiplexed'), { forceNew: false });
    const admin = chat.io.socket('/admin', { auth: { token: ADMIN_TOKEN } });
    admin.events = [];
    admin.onAny((event, ...args) => admin.events.push([event, ...args]));
    await waitUntil(() => admin.connected, 'the /admin socket to connect');
    const stats = await ask(admin, 'getStats');
    assert.ok(stats.chatUsers >= 1);
    admin.disconnect();
  });
});

describe('chat: start-up', { skip: SKIP }, () => {
  it('generates and prints an admin token when ADMIN_TOKEN is unset', async () => {
    const server = await startChat({ ADMIN_TOKEN: '' });
    try {
      const token = server.output().match(/admin token for this run: (\S+)/)?.[1];
      assert.ok(token, server.output());
      assert.match(token, /^[A-Za-z0-9]{32}$/);
      assert.ok(server.output().includes(`/admin#token=${token}`), server.output());
      const admin = await joinAdmin(server.url, token);
      assert.equal(admin.connected, true);
      assert.equal(await refusal(server.url, '/admin', { token: ADMIN_TOKEN }), 'unauthorized');
    } finally {
      closeAll();
      await server.stop();
    }
  });

  it('does not print a token that was given', async () => {
    const server = await startChat();
    try {
      assert.ok(!server.output().includes(ADMIN_TOKEN), server.output());
      assert.ok(!server.output().includes('admin token for this run'), server.output());
    } finally {
      await server.stop();
    }
  });
});
