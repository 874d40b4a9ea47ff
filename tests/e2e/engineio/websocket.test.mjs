// WebSocket-only sessions (no polling first): one packet per frame, binary as raw frames.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import { WsClient } from './helpers.mjs';

describe('websocket', { timeout: 20000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo');
  });
  after(() => server.stop());

  test('text frames are echoed as text frames', async () => {
    const client = await WsClient.handshake(server.url);
    try {
      for (const message of ['4hello', '4wörld 🚀', '4']) {
        client.send(message);
        assert.equal(await client.next(), message);
      }
    } finally {
      await client.close();
    }
  });

  test('binary frames are echoed as binary frames with the same bytes', async () => {
    const client = await WsClient.handshake(server.url);
    try {
      const bytes = Buffer.from([0, 1, 2, 0x34, 0xfe, 0xff]);
      client.send(bytes);
      const echoed = await client.next();
      assert.ok(Buffer.isBuffer(echoed), `echo is a binary frame, got ${JSON.stringify(echoed)}`);
      assert.deepEqual(echoed, bytes);
    } finally {
      await client.close();
    }
  });

  test('a websocket-only session echoes a stream of mixed frames in order', async () => {
    const client = await WsClient.handshake(server.url);
    try {
      const sent = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? Buffer.from(`bin ${i}`) : `4text ${i}`));
      for (const frame of sent) client.send(frame);
      const received = [];
      for (let i = 0; i < sent.length; i++) received.push(await client.next());
      assert.deepEqual(received, sent);
    } finally {
      await client.close();
    }
  });
});
