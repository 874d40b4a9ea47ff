// Two chat processes on one Redis (REDIS_URL): rooms, users, messages and the admin page's counts
// are shared, whichever process a user is connected to.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { startRedis } from '../lib/redis.mjs';
import {
  SKIP,
  ask,
  closeAll,
  joinAdmin,
  joinChat,
  received,
  startChat,
  switchTo,
  unique,
  waitUntil,
} from './helpers.mjs';

describe('chat: two processes on one Redis', { skip: SKIP }, () => {
  let redis;
  let servers;
  before(async () => {
    redis = await startRedis();
    servers = [await startChat({ REDIS_URL: redis.url }), await startChat({ REDIS_URL: redis.url })];
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
});
