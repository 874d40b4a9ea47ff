// Rooms in the chat demo: switchRoom and its notifications, room names, the `rooms` and
// `listUsers` lists, and what a disconnection leaves behind (nothing).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  SKIP,
  ask,
  barrier,
  closeAll,
  joinAdmin,
  joinChat,
  received,
  seen,
  startChat,
  unique,
  waitUntil,
} from './helpers.mjs';

/** Switches `socket` to `room` and resolves once the server confirms with `roomChanged`. */
async function switchTo(socket, room) {
  const before = seen(socket, 'roomChanged').length;
  socket.emit('switchRoom', room);
  await waitUntil(() => seen(socket, 'roomChanged').length > before, `roomChanged ${room}`);
  return seen(socket, 'roomChanged').at(-1)[0];
}

const names = (users) => users.map((user) => user.username).sort();

describe('chat: rooms', { skip: SKIP }, () => {
  let server;
  before(async () => {
    server = await startChat();
  });
  after(() => server?.stop());
  afterEach(closeAll);

  it('switchRoom moves the socket and tells both rooms, and the socket gets roomChanged', async () => {
    const room = unique('room');
    const [aliceName, bobName, carolName] = [unique('alice'), unique('bob'), unique('carol')];
    const alice = await joinChat(server.url, aliceName);
    const bob = await joinChat(server.url, bobName);
    const carol = await joinChat(server.url, carolName);
    await switchTo(carol, room);

    assert.equal(await switchTo(bob, room), room);
    await received(alice, 'notification', (text) => text === `${bobName} left general`);
    await received(carol, 'notification', (text) => text === `${bobName} joined ${room}`);
    // roomChanged comes last: both rooms have been told by then, and not the mover.
    assert.deepEqual(seen(bob, 'notification', (text) => text.startsWith(bobName)), []);
    assert.deepEqual(seen(carol, 'notification', (text) => text === `${bobName} left general`), []);
    assert.deepEqual(seen(alice, 'notification', (text) => text === `${bobName} joined ${room}`), []);

    assert.deepEqual(names(await ask(bob, 'listUsers')), [bobName, carolName].sort());
    assert.ok(!names(await ask(alice, 'listUsers')).includes(bobName));
  });

  it('switching to the current room only confirms it', async () => {
    const alice = await joinChat(server.url, unique('alice'));
    const bobName = unique('bob');
    const bob = await joinChat(server.url, bobName);
    assert.equal(await switchTo(bob, 'general'), 'general');
    await barrier(alice);
    assert.deepEqual(seen(alice, 'notification', (text) => text.startsWith(`${bobName} left`)), []);
  });

  it('accepts the listed rooms and any name matching ^[a-z0-9][a-z0-9-]{0,31}$', async () => {
    const socket = await joinChat(server.url, unique('walker'));
    for (const room of ['tech', 'random', 'general', '0', 'a-', 'x'.repeat(32), unique('r')]) {
      assert.equal(await switchTo(socket, room), room);
    }
    assert.deepEqual(seen(socket, 'error'), []);
  });

  const invalid = ['', '-lead', 'Tech', 'with space', 'under_score', 'dot.ted', 'émoji', 'x'.repeat(33), 'tab\t'];
  for (const room of invalid) {
    it(`refuses the room name ${JSON.stringify(room)} and changes nothing`, async () => {
      const alice = await joinChat(server.url, unique('alice'));
      const bobName = unique('bob');
      const bob = await joinChat(server.url, bobName);
      bob.emit('switchRoom', room);
      assert.deepEqual(await received(bob, 'error'), ['Invalid room name']);
      await barrier(alice);
      assert.deepEqual(seen(bob, 'roomChanged'), []);
      assert.deepEqual(seen(alice, 'notification', (text) => text.startsWith(`${bobName} left`)), []);
      const users = await ask(bob, 'listUsers');
      assert.ok(users.some((user) => user.id === alice.id), 'bob is still in general');
      assert.ok(!(room in (await ask(bob, 'rooms'))));
    });
  }

  it('rooms counts the listed rooms (0 when empty) and every other room with members', async () => {
    const [room, other] = [unique('room'), unique('room')];
    const watcher = await joinChat(server.url, unique('watcher'));
    await switchTo(watcher, unique('watching'));
    const a = await joinChat(server.url, unique('a'));
    const b = await joinChat(server.url, unique('b'));
    await switchTo(a, room);
    await switchTo(b, room);

    const rooms = await ask(watcher, 'rooms');
    for (const listed of ['general', 'tech', 'random']) {
      assert.equal(typeof rooms[listed], 'number', `${listed} is listed`);
    }
    assert.equal(rooms[room], 2);
    assert.ok(!(other in rooms), 'a room nobody is in is not listed');

    await switchTo(b, 'general');
    assert.equal((await ask(watcher, 'rooms'))[room], 1);
    await switchTo(a, 'general');
    assert.ok(!(room in (await ask(watcher, 'rooms'))), 'an emptied room disappears');
  });

  it('never lists socket id-rooms', async () => {
    const alice = await joinChat(server.url, unique('alice'));
    const bob = await joinChat(server.url, unique('bob'));
    const admin = await joinAdmin(server.url);
    for (const rooms of [await ask(alice, 'rooms'), (await ask(admin, 'getStats')).rooms]) {
      for (const id of [alice.id, bob.id, admin.id]) assert.ok(!(id in rooms), `${id} in ${JSON.stringify(rooms)}`);
      for (const name of Object.keys(rooms)) assert.match(name, /^[a-z0-9][a-z0-9-]{0,31}$/);
    }
  });

  it('listUsers answers [{ id, username }] of the sender’s room only', async () => {
    const room = unique('room');
    const [aName, bName] = [unique('a'), unique('b')];
    const a = await joinChat(server.url, aName);
    const b = await joinChat(server.url, bName);
    const outsider = await joinChat(server.url, unique('outsider'));
    await switchTo(a, room);
    await switchTo(b, room);
    const users = await ask(a, 'listUsers');
    assert.deepEqual(
      [...users].sort((x, y) => x.username.localeCompare(y.username)),
      [
        { id: a.id, username: aName },
        { id: b.id, username: bName },
      ].sort((x, y) => x.username.localeCompare(y.username)),
    );
    assert.ok(!(await ask(a, 'listUsers')).some((user) => user.id === outsider.id));
  });

  it('a disconnection tells the room and leaves no state behind', async () => {
    const room = unique('room');
    const [stayName, goName] = [unique('stay'), unique('go')];
    const stay = await joinChat(server.url, stayName);
    const go = await joinChat(server.url, goName);
    await switchTo(stay, room);
    await switchTo(go, room);
    const admin = await joinAdmin(server.url);
    const before = await ask(admin, 'getStats');
    assert.equal(before.rooms[room], 2);

    go.disconnect();
    await received(stay, 'notification', (text) => text === `${goName} left ${room}`);
    assert.deepEqual(await ask(stay, 'listUsers'), [{ id: stay.id, username: stayName }]);
    assert.equal((await ask(stay, 'rooms'))[room], 1);
    const afterGo = await ask(admin, 'getStats');
    assert.equal(afterGo.rooms[room], 1);
    assert.ok(!(go.id in afterGo.rooms));

    stay.disconnect();
    await waitUntil(async () => !(room in (await ask(admin, 'getStats')).rooms), `${room} to disappear`);
  });

  it('a lost connection (no goodbye) is cleaned up the same way', async () => {
    const room = unique('room');
    const goName = unique('go');
    const stay = await joinChat(server.url, unique('stay'));
    const go = await joinChat(server.url, goName);
    await switchTo(stay, room);
    await switchTo(go, room);
    go.io.engine.close(); // the transport closes, no DISCONNECT packet
    await received(stay, 'notification', (text) => text === `${goName} left ${room}`);
    assert.equal((await ask(stay, 'rooms'))[room], 1);
    assert.ok(!(await ask(stay, 'listUsers')).some((user) => user.username === goName));
  });
});
