// Messages and typing in the chat demo: who receives them (the room, and nobody outside it),
// their payloads, and the length limits of a message.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  SKIP,
  ask,
  barrier,
  closeAll,
  joinChat,
  received,
  seen,
  startChat,
  switchTo,
  unique,
  waitUntil,
} from './helpers.mjs';

/** Sends `text` as `sender` and resolves with the message once the sender has it back. */
async function say(sender, text) {
  sender.emit('message', text);
  const [message] = await received(sender, 'message', (m) => m.text === text);
  return message;
}

describe('chat: messages and typing', { skip: SKIP }, () => {
  let server;
  before(async () => {
    server = await startChat();
  });
  after(() => server?.stop());
  afterEach(closeAll);

  /** Three sockets in a fresh room, and one outside it. */
  async function roomOfThree() {
    const room = unique('room');
    const names = [unique('a'), unique('b'), unique('c')];
    const members = [];
    for (const name of names) {
      const socket = await joinChat(server.url, name);
      await switchTo(socket, room);
      members.push(socket);
    }
    const outsider = await joinChat(server.url, unique('outsider'));
    return { room, names, members, outsider };
  }

  it('a message reaches everyone in the room, sender included, as { room, id, username, text, ts }', async () => {
    const { room, names, members, outsider } = await roomOfThree();
    const [sender] = members;
    const before = Date.now();
    const text = `hello ${unique('m')}`;
    const echoed = await say(sender, text);
    const after = Date.now();
    assert.deepEqual(Object.keys(echoed).sort(), ['id', 'room', 'text', 'ts', 'username']);
    assert.deepEqual({ ...echoed, ts: 0 }, { room, id: sender.id, username: names[0], text, ts: 0 });
    assert.ok(Number.isInteger(echoed.ts) && echoed.ts >= before - 1000 && echoed.ts <= after + 1000, `ts ${echoed.ts}`);
    for (const member of members.slice(1)) {
      assert.deepEqual(await received(member, 'message', (m) => m.text === text), [echoed]);
    }
    await barrier(outsider);
    assert.deepEqual(seen(outsider, 'message'), []);
  });

  it('a message in tech never reaches general, and one in general never reaches tech', async () => {
    const inGeneral = await joinChat(server.url, unique('g'));
    const inTech = await joinChat(server.url, unique('t'));
    await switchTo(inTech, 'tech');
    const techText = `tech only ${unique('m')}`;
    const generalText = `general only ${unique('m')}`;
    await say(inTech, techText);
    await say(inGeneral, generalText);
    await barrier(inGeneral, inTech);
    assert.deepEqual(seen(inGeneral, 'message', (m) => m.text === techText), []);
    assert.deepEqual(seen(inTech, 'message', (m) => m.text === generalText), []);
    assert.ok(seen(inTech, 'message').every((m) => m[0].room === 'tech'));
  });

  it('after switching rooms, messages follow the new room only', async () => {
    const mover = await joinChat(server.url, unique('mover'));
    const stayer = await joinChat(server.url, unique('stayer'));
    const room = unique('room');
    await switchTo(mover, room);
    const text = `from the new room ${unique('m')}`;
    await say(mover, text);
    const stayerText = `left behind ${unique('m')}`;
    await say(stayer, stayerText);
    await barrier(stayer, mover);
    assert.deepEqual(seen(stayer, 'message', (m) => m.text === text), []);
    assert.deepEqual(seen(mover, 'message', (m) => m.text === stayerText), []);
  });

  const lengths = [
    ['1 character', 'x', true],
    ['2000 characters', 'x'.repeat(2000), true],
    ['2000 CJK characters', '日'.repeat(2000), true],
    ['2000 emoji (characters, not UTF-16 units)', '🙂'.repeat(2000), true],
    ['an empty text', '', false],
    ['2001 characters', 'x'.repeat(2001), false],
    ['2001 emoji', '🙂'.repeat(2001), false],
  ];
  for (const [what, text, accepted] of lengths) {
    it(`a message of ${what} is ${accepted ? 'delivered' : 'refused and reaches nobody'}`, async () => {
      const { members } = await roomOfThree();
      const [sender, other] = members;
      sender.emit('message', text);
      if (accepted) {
        await received(other, 'message', (m) => m.text === text);
        await received(sender, 'message', (m) => m.text === text);
        assert.deepEqual(seen(sender, 'error'), []);
        return;
      }
      assert.deepEqual(await received(sender, 'error'), ['Message must be 1 to 2000 characters']);
      // A later message is the sentinel: it arrives after anything sent before it.
      const next = `next ${unique('m')}`;
      await say(sender, next);
      for (const socket of members) {
        await received(socket, 'message', (m) => m.text === next);
        assert.deepEqual(seen(socket, 'message').map(([m]) => m.text), [next]);
      }
      assert.equal(sender.connected, true);
    });
  }

  it('typing and stopTyping reach the room but the sender, as { username }', async () => {
    const { names, members, outsider } = await roomOfThree();
    const [typist, ...others] = members;
    for (const event of ['typing', 'stopTyping']) {
      typist.emit(event);
      for (const other of others) {
        assert.deepEqual(await received(other, event), [{ username: names[0] }]);
      }
    }
    // The typist's own events are handled in order: after this answer, both were handled.
    await ask(typist, 'listUsers');
    await barrier(outsider);
    for (const socket of [typist, outsider]) {
      assert.deepEqual(seen(socket, 'typing'), []);
      assert.deepEqual(seen(socket, 'stopTyping'), []);
    }
  });

  it('typing ignores arguments it does not need', async () => {
    const { names, members } = await roomOfThree();
    members[0].emit('typing', 42, { extra: true });
    assert.deepEqual(await received(members[1], 'typing'), [{ username: names[0] }]);
  });

  for (const transports of [['websocket'], ['polling']]) {
    it(`works over ${transports[0]} alone`, async () => {
      const a = await joinChat(server.url, unique('a'), { transports });
      const b = await joinChat(server.url, unique('b'), { transports });
      const text = `over ${transports[0]} ${unique('m')}`;
      await say(a, text);
      await received(b, 'message', (m) => m.text === text);
      await waitUntil(() => a.io.engine.transport.name === transports[0], 'the transport');
    });
  }
});
