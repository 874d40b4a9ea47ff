// The admin namespace of the chat demo: getStats, announce and kickAll, and the wall between
// /chat and /admin.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ADMIN_TOKEN,
  SKIP,
  ask,
  barrier,
  closeAll,
  disconnection,
  joinAdmin,
  joinChat,
  received,
  seen,
  startChat,
  switchTo,
  unique,
  waitUntil,
} from './helpers.mjs';

describe('chat: admin', { skip: SKIP }, () => {
  let server;
  before(async () => {
    server = await startChat();
  });
  after(() => server?.stop());
  afterEach(closeAll);

  /** Waits until getStats says what `expected` says (for the fields it has). */
  async function statsSettle(admin, expected) {
    let last;
    try {
      return await waitUntil(async () => {
        last = await ask(admin, 'getStats');
        return Object.entries(expected).every(([key, value]) =>
          key === 'rooms'
            ? Object.entries(value).every(([room, n]) => (last.rooms[room] ?? 0) === n)
            : last[key] === value,
        ) && last;
      }, 'stats');
    } catch (error) {
      throw new Error(`${error.message}: expected ${JSON.stringify(expected)}, last ${JSON.stringify(last)}`);
    }
  }

  it('getStats answers { chatUsers, adminUsers, rooms } and follows every change', async () => {
    const admin = await joinAdmin(server.url);
    const stats = await statsSettle(admin, { chatUsers: 0, adminUsers: 1 });
    assert.deepEqual(Object.keys(stats).sort(), ['adminUsers', 'chatUsers', 'rooms']);
    assert.deepEqual(stats.rooms, { general: 0, random: 0, tech: 0 });

    const room = unique('room');
    const a = await joinChat(server.url, unique('a'));
    const b = await joinChat(server.url, unique('b'));
    const c = await joinChat(server.url, unique('c'));
    await switchTo(b, 'tech');
    await switchTo(c, room);
    const second = await joinAdmin(server.url);
    assert.deepEqual(await ask(second, 'getStats'), {
      chatUsers: 3,
      adminUsers: 2,
      rooms: { general: 1, random: 0, tech: 1, [room]: 1 },
    });

    c.disconnect();
    second.disconnect();
    await statsSettle(admin, { chatUsers: 2, adminUsers: 1, rooms: { general: 1, tech: 1 } });
    const later = await ask(admin, 'getStats');
    assert.ok(!(room in later.rooms));
    a.disconnect();
    b.disconnect();
    await statsSettle(admin, { chatUsers: 0, rooms: { general: 0, tech: 0 } });
  });

  it('announce reaches every /chat socket in every room, and no /admin socket', async () => {
    const inGeneral = await joinChat(server.url, unique('g'));
    const inTech = await joinChat(server.url, unique('t'));
    const elsewhere = await joinChat(server.url, unique('e'));
    await switchTo(inTech, 'tech');
    await switchTo(elsewhere, unique('room'));
    const admin = await joinAdmin(server.url);
    const otherAdmin = await joinAdmin(server.url);
    const text = `maintenance at noon ${unique('n')}`;
    admin.emit('announce', text);
    for (const socket of [inGeneral, inTech, elsewhere]) {
      assert.deepEqual(await received(socket, 'announcement'), [text]);
    }
    await barrier(admin, otherAdmin);
    assert.deepEqual(seen(admin, 'announcement'), []);
    assert.deepEqual(seen(otherAdmin, 'announcement'), []);
  });

  it('kickAll disconnects every /chat socket of that room and no other', async () => {
    const admin = await joinAdmin(server.url);
    const room = unique('room');
    const kicked = [await joinChat(server.url, unique('k')), await joinChat(server.url, unique('k'))];
    const spared = await joinChat(server.url, unique('s'));
    for (const socket of kicked) await switchTo(socket, room);
    const reasons = kicked.map(disconnection);
    admin.emit('kickAll', room);
    assert.deepEqual(await Promise.all(reasons), ['io server disconnect', 'io server disconnect']);
    await barrier(spared, admin);
    assert.equal(spared.connected, true);
    assert.equal(admin.connected, true);
    assert.deepEqual(seen(admin, 'error'), []);
    await statsSettle(admin, { rooms: { [room]: 0 } });
    assert.ok(!(room in (await ask(spared, 'rooms'))));
  });

  it('kickAll of an empty room is no error', async () => {
    const admin = await joinAdmin(server.url);
    admin.emit('kickAll', unique('empty'));
    await barrier(admin);
    assert.deepEqual(seen(admin, 'error'), []);
  });

  it('/chat events never reach /admin, even over the same connection', async () => {
    const chat = await joinChat(server.url, unique('chatter'), { forceNew: false, multiplex: true });
    const shared = chat.io.socket('/admin', { auth: { token: ADMIN_TOKEN } });
    shared.events = [];
    shared.onAny((event, ...args) => shared.events.push([event, ...args]));
    await waitUntil(() => shared.connected, 'the multiplexed /admin socket');
    const separate = await joinAdmin(server.url);
    const peer = await joinChat(server.url, unique('peer'));

    chat.emit('typing');
    chat.emit('message', 'for the chat only');
    await received(peer, 'message', (m) => m.text === 'for the chat only');
    await switchTo(chat, unique('room'));
    peer.disconnect();
    await barrier(shared, separate);
    assert.deepEqual(shared.events.filter(([event]) => event !== 'connect'), []);
    assert.deepEqual(separate.events, []);
    shared.disconnect();
  });
});
