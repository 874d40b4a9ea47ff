// Two chat processes on one Redis (REDIS_URL): rooms, users, messages and the admin page's counts
// are shared, whichever process a user is connected to.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { startProxy } from '../lib/proxy.mjs';
import { startRedis } from '../lib/redis.mjs';
import {
  SKIP,
  ask,
  barrier,
  closeAll,
  disconnection,
  joinAdmin,
  joinChat,
  received,
  startChat,
  seen,
  switchTo,
  unique,
  waitUntil,
} from './helpers.mjs';

const WINDOW_MS = 1000;

describe('chat: two processes on one Redis', { skip: SKIP }, () => {
  let redis;
  let servers;
  before(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, RECOVERY_WINDOW_MS: String(WINDOW_MS) };
    servers = [await startChat(env), await startChat(env)];
  });
  after(async () => {
    closeAll();
    await Promise.all((servers ?? []).map((server) => server.stop()));
    await redis?.stop();
  });
  afterEach(closeAll);

  it('never logs the Redis URL', () => {
    for (const server of servers) {
      assert.match(server.output(), /clustered through Redis/);
      assert.ok(!server.output().includes(redis.url), 'the URL (and any password in it) is not logged');
    }
  });

  it('a room spans both processes: messages, user lists and counts', async () => {
    const room = unique('room');
    const [a, b] = [unique('a'), unique('b')];
    const alice = await joinChat(servers[0].url, a);
    const bob = await joinChat(servers[1].url, b);
    await switchTo(alice, room);
    await switchTo(bob, room);
    const text = `across ${unique('m')}`;
    alice.emit('message', text);
    const [message] = await received(bob, 'message', (m) => m.text === text);
    assert.equal(message.username, a);
    await waitUntil(async () => {
      const users = await ask(bob, 'listUsers');
      return users.map((u) => u.username).sort().join() === [a, b].sort().join();
    }, 'both users listed from either process');
    const admin = await joinAdmin(servers[0].url);
    await waitUntil(async () => {
      const stats = await ask(admin, 'getStats');
      return stats.chatUsers === 2 && stats.rooms[room] === 2;
    }, 'the admin page counts both processes');
  });

  it('a user dropped from one process comes back on the other, and the room hears nothing of it', async () => {
    const proxy = await startProxy(servers[0].port);
    try {
      const room = unique('room');
      const [a, b] = [unique('a'), unique('b')];
      const alice = await joinChat(proxy.url, a, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
      const bob = await joinChat(servers[1].url, b);
      await switchTo(alice, room);
      await switchTo(bob, room);
      const id = alice.id;
      const dropped = disconnection(alice);
      proxy.cut();
      await dropped;
      const text = `while away ${unique('m')}`;
      bob.emit('message', text);
      await received(bob, 'message', (m) => m.text === text);
      proxy.resume(servers[1].port);
      const [missed] = await received(alice, 'message', (m) => m.text === text);
      assert.equal(missed.room, room);
      assert.equal(alice.id, id, 'the same socket');
      assert.equal(alice.recovered, true);
      // Past the window: no "left", no "joined" for the room; the user is still listed.
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 300));
      await barrier(alice, bob);
      const aboutAlice = seen(bob, 'notification', (n) => n === `${a} left ${room}` || n === `${a} joined ${room}`);
      assert.deepEqual(aboutAlice, []);
      const users = await ask(bob, 'listUsers');
      assert.deepEqual(users.map((u) => u.username).sort(), [a, b].sort());
    } finally {
      await proxy.close();
    }
  });
});
