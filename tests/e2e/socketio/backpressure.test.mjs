// A client that sends faster than it reads: 400,000 events asking for acknowledgements
// (about 40 MB, and as much again in acks, more than max_buffered_bytes holds with each
// frame's overhead) written while the client reads nothing. The server must stop reading the
// connection while its replies wait, not queue them all: once the client reads again, every
// ack arrives, in order, on a connection that stayed open. Against roomcast and Node.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';

import { startServer } from '../lib/server.mjs';
import { waitUntil } from '../lib/util.mjs';

const COUNT = 400_000;
const FILLER = 'x'.repeat(80);

for (const target of ['roomcast', 'node']) {
  describe(`a client flooding events (${target})`, { timeout: 120_000 }, () => {
    let server;
    before(async () => {
      server = await startServer('probe', {}, target);
    });
    after(() => server?.stop());

    it('is slowed down, not dropped, and gets every ack in order', async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
      let acks = 0;
      let outOfOrder = 0;
      let connected = false;
      let closed = false;
      ws.on('message', (data) => {
        const text = data.toString();
        if (text === '2') return ws.send('3');
        if (text.startsWith('0')) return ws.send('40');
        if (text.startsWith('40')) connected = true;
        if (text.startsWith('43')) {
          const id = Number(/^43(\d+)/.exec(text)[1]);
          if (id !== acks) outOfOrder += 1;
          acks += 1;
        }
      });
      ws.on('close', () => {
        closed = true;
      });
      await waitUntil(() => connected, 'the namespace CONNECT');
      ws._socket.pause();
      for (let id = 0; id < COUNT; id += 1) ws.send(`42${id}["echo","${FILLER}"]`);
      await sleep(2000);
      ws._socket.resume();
      await waitUntil(() => acks === COUNT || closed, 'every ack', 60_000);
      assert.equal(closed, false, `closed after ${acks} acks`);
      assert.equal(acks, COUNT);
      assert.equal(outOfOrder, 0);
      ws.close();
    });
  });
}
