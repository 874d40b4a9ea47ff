// Wrong payloads in the chat demo: a number where a string belongs, missing arguments, binary,
// a missing acknowledgement callback. Each gets the `error` event with a clear message, changes
// nothing, and the socket stays connected.
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
} from './helpers.mjs';

describe('chat: wrong payloads', { skip: SKIP }, () => {
  let server;
  before(async () => {
    server = await startChat();
  });
  after(() => server?.stop());
  afterEach(closeAll);

  const chatCases = [
    ['switchRoom', [42], /^Invalid switchRoom payload: expected a room name \(a string\), got 1 argument \(number\)$/],
    ['switchRoom', [], /^Invalid switchRoom payload: expected a room name \(a string\), got no arguments$/],
    ['switchRoom', [null], /^Invalid switchRoom payload: expected a room name/],
    ['switchRoom', [{ room: 'tech' }], /^Invalid switchRoom payload: expected a room name .*object/],
    ['switchRoom', [['tech']], /^Invalid switchRoom payload: expected a room name .*array/],
    ['message', [42], /^Invalid message payload: expected the message text \(a string\), got 1 argument \(number\)$/],
    ['message', [], /^Invalid message payload: expected the message text \(a string\), got no arguments$/],
    ['message', [{ text: 'hi' }], /^Invalid message payload: expected the message text .*object/],
    ['message', [true], /^Invalid message payload: expected the message text .*bool/],
    ['message', [Buffer.from('hi')], /^Invalid message payload: expected the message text .*binary/],
  ];
  for (const [event, args, expected] of chatCases) {
    it(`${event}(${args.map((a) => JSON.stringify(a)).join(', ')}) gets an error and changes nothing`, async () => {
      const watcher = await joinChat(server.url, unique('watcher'));
      const name = unique('sender');
      const sender = await joinChat(server.url, name);
      sender.emit(event, ...args);
      const [error] = await received(sender, 'error');
      assert.equal(typeof error, 'string');
      assert.match(error, expected);
      await barrier(watcher);
      assert.deepEqual(seen(sender, 'roomChanged'), []);
      assert.deepEqual(seen(watcher, 'message'), []);
      assert.deepEqual(seen(watcher, 'notification', (text) => text.startsWith(`${name} left`)), []);
      assert.equal(sender.connected, true);
      const users = await ask(sender, 'listUsers');
      assert.ok(users.some((user) => user.id === watcher.id), 'the sender is still in general');
      // And it still works.
      sender.emit('message', 'still here');
      await received(watcher, 'message', (m) => m.text === 'still here' && m.id === sender.id);
    });
  }

  for (const event of ['listUsers', 'rooms']) {
    it(`${event} without an acknowledgement callback gets an error`, async () => {
      const socket = await joinChat(server.url, unique('noack'));
      socket.emit(event);
      const [error] = await received(socket, 'error');
      assert.equal(error, `${event} answers through an acknowledgement: pass a callback`);
      assert.equal(socket.connected, true);
    });
  }

  const adminCases = [
    ['announce', [42], /^Invalid announce payload: expected the announcement text \(a string\), got 1 argument \(number\)$/],
    ['announce', [], /^Invalid announce payload: expected the announcement text \(a string\), got no arguments$/],
    ['announce', [''], /^Message must be 1 to 2000 characters$/],
    ['announce', ['x'.repeat(2001)], /^Message must be 1 to 2000 characters$/],
    ['kickAll', [7], /^Invalid kickAll payload: expected a room name \(a string\), got 1 argument \(number\)$/],
    ['kickAll', [], /^Invalid kickAll payload: expected a room name \(a string\), got no arguments$/],
    ['kickAll', ['Not A Room'], /^Invalid room name$/],
    ['getStats', [], /^getStats answers through an acknowledgement: pass a callback$/],
  ];
  for (const [event, args, expected] of adminCases) {
    it(`admin ${event}(${args.map((a) => JSON.stringify(a).slice(0, 20)).join(', ')}) gets an error and changes nothing`, async () => {
      const chat = await joinChat(server.url, unique('bystander'));
      const admin = await joinAdmin(server.url);
      admin.emit(event, ...args);
      const [error] = await received(admin, 'error');
      assert.match(error, expected);
      await barrier(chat);
      assert.deepEqual(seen(chat, 'announcement'), []);
      assert.equal(chat.connected, true);
      assert.equal(admin.connected, true);
    });
  }
});
