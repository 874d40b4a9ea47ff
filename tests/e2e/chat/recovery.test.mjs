// A short network drop in the chat demo: the user comes back to the same socket and room with
// the messages sent meanwhile, and the room hears nothing of it; a user who does not come back
// is said to have left once the recovery window is over.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import {
  SKIP,
  barrier,
  closeAll,
  disconnection,
  joinChat,
  received,
  seen,
  startChat,
  switchTo,
  unique,
} from './helpers.mjs';

const WINDOW_MS = 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('chat: a short network drop', { skip: SKIP }, () => {
  let server;
  before(async () => {
    server = await startChat({ RECOVERY_WINDOW_MS: String(WINDOW_MS) });
  });
  after(() => server?.stop());
  afterEach(closeAll);

  async function pair() {
    const room = unique('room');
    const [a, b] = [unique('a'), unique('b')];
    const alice = await joinChat(server.url, a, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    const bob = await joinChat(server.url, b);
    await switchTo(alice, room);
    await switchTo(bob, room);
    return { room, a, b, alice, bob };
  }

  it('the user comes back with what was said meanwhile, and nobody hears of it', async () => {
    const { room, a, alice, bob } = await pair();
    const id = alice.id;
    const dropped = disconnection(alice);
    alice.io.engine.close();
    await dropped;
    const text = `while away ${unique('m')}`;
    bob.emit('message', text);
    await received(bob, 'message', (m) => m.text === text);
    const [missed] = await received(alice, 'message', (m) => m.text === text);
    assert.equal(missed.room, room);
    assert.equal(alice.id, id, 'the same socket');
    // Past the window: no "left", no "joined" for the room.
    await sleep(WINDOW_MS + 300);
    await barrier(alice, bob);
    const aboutAlice = seen(bob, 'notification', (n) => n === `${a} left ${room}` || n === `${a} joined ${room}`);
    assert.deepEqual(aboutAlice, []);
  });

  it('a user who does not come back is said to have left when the window is over', async () => {
    const { room, a, alice, bob } = await pair();
    alice.io.reconnection(false);
    alice.io.engine.close();
    const [notice] = await received(bob, 'notification', (n) => n === `${a} left ${room}`);
    assert.equal(notice, `${a} left ${room}`);
  });
});
