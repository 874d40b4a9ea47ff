// connect_timeout (Node's connectTimeout): an Engine.IO connection that joins no namespace
// within it is closed; one that joins in time stays. Runs against roomcast and Node side by side.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';

import { startServer } from '../lib/server.mjs';
import { waitUntil } from '../lib/util.mjs';

/** A raw Engine.IO WebSocket: resolves once the open packet arrived. */
function open(port) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    const state = { ws, closed: false, messages: [] };
    ws.on('message', (data) => {
      const text = data.toString();
      state.messages.push(text);
      if (text === '2') ws.send('3');
      if (text.startsWith('0')) resolve(state);
    });
    ws.on('close', () => {
      state.closed = true;
    });
    ws.on('error', reject);
  });
}

for (const target of ['roomcast', 'node']) {
  describe(`connect timeout (${target})`, () => {
    let server;
    before(async () => {
      server = await startServer('probe', { CONNECT_TIMEOUT: '500' }, target);
    });
    after(() => server?.stop());

    it('closes a connection that joins no namespace in time', async () => {
      const idle = await open(server.port);
      await waitUntil(() => idle.closed, 'the idle connection closed', 5000);
      assert.deepEqual(idle.messages.slice(1), []);
    });

    it('keeps a connection that joins a namespace in time', async () => {
      const joined = await open(server.port);
      joined.ws.send('40');
      await waitUntil(() => joined.messages.some((m) => m.startsWith('40')), 'CONNECT answered');
      await sleep(1000);
      assert.equal(joined.closed, false);
      joined.ws.close();
    });

    it('closes each idle connection among others that join or leave first', async () => {
      // Waiting, joined, gone, waiting, joined: opened in this order, so the ones that joined
      // or left sit between and behind the waiting ones in the server's queue of deadlines.
      const first = await open(server.port);
      const joined = await open(server.port);
      joined.ws.send('40');
      const gone = await open(server.port);
      gone.ws.close();
      const second = await open(server.port);
      const late = await open(server.port);
      await sleep(100);
      late.ws.send('40');
      await waitUntil(() => first.closed && second.closed, 'both idle connections closed', 5000);
      await sleep(700);
      assert.equal(joined.closed, false, 'the connection that joined at once stays');
      assert.equal(late.closed, false, 'the connection that joined within the timeout stays');
      assert.deepEqual(first.messages.slice(1), []);
      assert.deepEqual(second.messages.slice(1), []);
      joined.ws.close();
      late.ws.close();
    });
  });
}
