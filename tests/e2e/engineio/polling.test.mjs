// HTTP long-polling with raw requests: batched payloads, the pending GET, overlapping GETs.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import { PollingSession, SEPARATOR, UNKNOWN_SID, assertEngineError } from './helpers.mjs';

describe('long-polling', { timeout: 20000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo');
  });
  after(() => server.stop());

  test('a POST of text and binary packets is answered "ok" and every packet is echoed in order', async () => {
    const session = await PollingSession.open(server.url);
    const body = ['4hello', '4wörld 🚀', 'bAQIDBA==', '4', 'b/wD+'].join(SEPARATOR);
    const res = await session.post(body);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok');
    assert.match(res.headers.get('content-type'), /^text\/html/);

    const echoed = await session.receive(5);
    assert.deepEqual(echoed, [
      '4hello',
      '4wörld 🚀',
      Buffer.from([1, 2, 3, 4]),
      '4',
      Buffer.from([0xff, 0x00, 0xfe]),
    ]);
  });

  test('binary messages come back base64-encoded in the text payload', async () => {
    const session = await PollingSession.open(server.url);
    await session.send('4a', Buffer.from([1, 2, 3]), '4b');
    const packets = [];
    while (packets.length < 3) {
      const res = await session.get();
      assert.equal(res.status, 200);
      packets.push(...res.body.split(SEPARATOR));
    }
    assert.deepEqual(packets, ['4a', 'bAQID', '4b']);
  });

  test('a GET waits while nothing is queued and returns once a message arrives', async () => {
    const session = await PollingSession.open(server.url);
    let settled = false;
    const poll = session.get().finally(() => (settled = true));
    await sleep(300);
    assert.equal(settled, false, 'the poll was answered with nothing to send');

    await session.send('4late');
    const res = await poll;
    assert.equal(res.status, 200);
    assert.equal(res.body, '4late');
  });

  test('a second concurrent GET is refused and closes the session', async () => {
    const session = await PollingSession.open(server.url);
    const first = session.get();
    await sleep(50);
    const second = await session.get();
    // As Node (packages/engine.io/lib/transports/polling.ts onPollRequest, "request overlap");
    // the protocol test suite also accepts 500.
    assert.equal(second.status, 400);

    // Closing the session ends the first GET with a close packet.
    const ended = await first;
    assert.equal(ended.status, 200);
    assert.equal(ended.body, '1');
    assertEngineError(await session.get(), UNKNOWN_SID);
  });
});
