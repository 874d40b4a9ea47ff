// Upgrade from long-polling to WebSocket, with raw packets and with the official engine.io-client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Socket } from 'engine.io-client';
import { startServer } from '../lib/server.mjs';
import {
  BAD_REQUEST,
  PollingSession,
  WsClient,
  assertEngineError,
  upgradeToWebSocket,
  withDeadline,
} from './helpers.mjs';

describe('upgrade', { timeout: 30000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo');
  });
  after(() => server.stop());

  test('raw upgrade: probe, pending poll released with a noop, then the session moves to the websocket', async () => {
    const session = await PollingSession.open(server.url);
    const pendingPoll = session.get();
    const client = await WsClient.connect(server.url, `EIO=4&transport=websocket&sid=${session.sid}`);
    try {
      client.send('2probe');
      assert.equal(await client.next(), '3probe');
      const released = await pendingPoll;
      assert.equal(released.status, 200);
      assert.equal(released.body, '6');

      // Until the client sends `5`, polling still carries its messages; the echo waits for a
      // writable transport and is flushed on the websocket once the upgrade completes.
      await session.send('4during upgrade');
      client.send('5');
      assert.equal(await client.next(), '4during upgrade');

      client.send('4after upgrade');
      assert.equal(await client.next(), '4after upgrade');
      client.send(Buffer.from([9, 8, 7]));
      assert.deepEqual(await client.next(), Buffer.from([9, 8, 7]));
    } finally {
      await client.close();
    }
  });

  test('polling requests on an upgraded sid get 400 "Bad request" and the websocket keeps working', async () => {
    const session = await PollingSession.open(server.url);
    const client = await upgradeToWebSocket(session);
    try {
      await client.assertEchoes();
      assertEngineError(await session.get(), BAD_REQUEST);
      assertEngineError(await session.post('4late'), BAD_REQUEST);
      await client.assertEchoes();
    } finally {
      await client.close();
    }
  });

  test('a second websocket for an upgraded sid is closed and the first keeps working', async () => {
    const session = await PollingSession.open(server.url);
    const client = await upgradeToWebSocket(session);
    const intruder = new WsClient(server.url, `EIO=4&transport=websocket&sid=${session.sid}`);
    try {
      await client.assertEchoes();
      await intruder.waitClosed();
      await client.assertEchoes();
    } finally {
      await Promise.all([client.close(), intruder.close()]);
    }
  });

  test('engine.io-client: 500 messages in flight both ways across the upgrade, each echoed once in order', async () => {
    const TOTAL = 500;
    const socket = new Socket(server.url, { transports: ['polling', 'websocket'] });
    const describeFrame = (data) => (typeof data === 'string' ? data : `bin:${Buffer.from(data)}`);
    const expected = Array.from({ length: TOTAL }, (_, i) => (i % 10 === 0 ? `bin:${i}` : `${i}`));
    let sent = 0;
    const sendUpTo = (count) => {
      for (; sent < count; sent++) socket.send(sent % 10 === 0 ? Buffer.from(String(sent)) : String(sent));
    };

    const received = [];
    const finished = new Promise((resolve, reject) => {
      socket.on('message', (data) => (data === 'end' ? resolve() : received.push(describeFrame(data))));
      socket.on('error', reject);
      socket.on('close', (reason) => reject(new Error(`closed: ${reason}`)));
    });
    const upgraded = new Promise((resolve, reject) => {
      socket.on('upgrade', resolve);
      socket.on('upgradeError', reject);
    });
    // A first batch goes out on polling, a second one while the probe is answered, the rest (and
    // a final marker) right after the switch, while echoes of the earlier ones are still coming.
    socket.on('open', () => sendUpTo(200));
    socket.on('upgrading', () => sendUpTo(400));
    socket.on('upgrade', () => {
      sendUpTo(TOTAL);
      socket.send('end');
    });

    try {
      await withDeadline(upgraded, 'upgrade');
      await withDeadline(finished, 'echo of every message');
      assert.equal(socket.transport.name, 'websocket');
      assert.deepEqual(received, expected);
    } finally {
      socket.close();
    }
  });
});
