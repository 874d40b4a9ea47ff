// WebSocket per-message deflate: off by default (engine.io's `perMessageDeflate: false`), and when
// enabled, negotiated with the client, applied from 1024 bytes on, and transparent to messages.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import { WsClient } from './helpers.mjs';

describe('per-message deflate', { timeout: 20000 }, () => {
  let plain;
  let compressing;
  before(async () => {
    [plain, compressing] = await Promise.all([
      startServer('eio-echo'),
      startServer('eio-echo', { PER_MESSAGE_DEFLATE: '1' }),
    ]);
  });
  after(() => Promise.all([plain.stop(), compressing.stop()]));

  test('is not negotiated unless enabled', async () => {
    const client = await WsClient.handshake(plain.url);
    try {
      assert.equal(client.ws.extensions, '');
      await client.assertEchoes();
    } finally {
      await client.close();
    }
  });

  test('when enabled, is negotiated and keeps every message intact', async () => {
    const client = await WsClient.handshake(compressing.url);
    try {
      assert.match(client.ws.extensions, /permessage-deflate/);
      const large = `4${'roomcast '.repeat(2000)}`;
      const binary = Buffer.alloc(50000, 7);
      for (const message of ['4small', large, binary, '4héllo wörld']) {
        client.send(message);
        assert.deepEqual(await client.next(), message);
      }
    } finally {
      await client.close();
    }
  });

  test('when enabled, large messages travel compressed', async () => {
    const client = await WsClient.handshake(compressing.url);
    try {
      const socket = client.ws._socket;
      const before = socket.bytesRead;
      const message = `4${'a'.repeat(100000)}`;
      client.send(message);
      assert.equal(await client.next(), message);
      const read = socket.bytesRead - before;
      assert.ok(read < 5000, `100 kB of 'a' arrived in ${read} bytes`);
    } finally {
      await client.close();
    }
  });
});
