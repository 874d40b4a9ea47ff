// The HTTP side against slow, idle and oversized peers: header size and count limits, the
// header-read, keep-alive and request-body timeouts (HttpOptions and Config::request_timeout,
// set through the probe's HTTP_* and REQUEST_TIMEOUT variables, short here).
// Node's http.Server has the same limits with the same defaults, but checks its timeouts only
// every 30 s (connectionsCheckingInterval); these tests run against roomcast only.
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { startServer, TARGET } from '../lib/server.mjs';
import { waitUntil } from '../lib/util.mjs';
import { withDeadline } from './helpers.mjs';

/** A raw TCP connection that records what the server sends and when it closes. */
function connect(port) {
  const socket = net.createConnection({ host: '127.0.0.1', port });
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk) => {
    received += chunk;
  });
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const connected = new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed, connected, received: () => received };
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise, ms) {
  return Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);
}

const HANDSHAKE = '/socket.io/?EIO=4&transport=polling';

/** The session id of the handshake answered on `peer`. */
async function handshakeSid(peer) {
  await waitUntil(() => /"sid":"([^"]+)"/.test(peer.received()), 'handshake');
  return /"sid":"([^"]+)"/.exec(peer.received())[1];
}

/** A polling handshake on a raw connection: the connection and the session id. */
async function openSession(port) {
  const peer = connect(port);
  await peer.connected;
  peer.socket.write(`GET ${HANDSHAKE} HTTP/1.1\r\nHost: x\r\n\r\n`);
  return { peer, sid: await handshakeSid(peer) };
}

describe('HTTP limits and timeouts', { skip: TARGET === 'node', timeout: 30000 }, () => {
  let server;
  before(async () => {
    server = await startServer('probe', {
      HTTP_KEEP_ALIVE_TIMEOUT: '600',
      HTTP_HEADER_READ_TIMEOUT: '600',
      REQUEST_TIMEOUT: '600',
      PING_INTERVAL: '1500',
      PING_TIMEOUT: '5000',
    });
  });
  after(() => server?.stop());

  test('a request head over 16 KiB is answered with 431 and the connection closed', async () => {
    const peer = connect(server.port);
    await peer.connected;
    peer.socket.write(`GET ${HANDSHAKE} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    await withDeadline(peer.closed, 'close after an oversized head');
    assert.match(peer.received(), /^HTTP\/1\.1 431 /);
  });

  test('a head under the size limit is served', async () => {
    const peer = connect(server.port);
    await peer.connected;
    peer.socket.write(`GET ${HANDSHAKE} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(12 * 1024)}\r\n\r\n`);
    await waitUntil(() => peer.received().includes('"sid"'), 'handshake with a 12 KiB header');
    assert.match(peer.received(), /^HTTP\/1\.1 200 /);
    peer.socket.destroy();
  });

  test('more than 100 header fields are answered with 431', async () => {
    const peer = connect(server.port);
    await peer.connected;
    const fields = Array.from({ length: 150 }, (_, i) => `X-F${i}: v\r\n`).join('');
    peer.socket.write(`GET ${HANDSHAKE} HTTP/1.1\r\nHost: x\r\n${fields}\r\n`);
    await withDeadline(peer.closed, 'close after too many header fields');
    assert.match(peer.received(), /^HTTP\/1\.1 431 /);
  });

  test('a connection that sends nothing is closed after the keep-alive timeout', async () => {
    const peers = Array.from({ length: 20 }, () => connect(server.port));
    await Promise.all(peers.map((peer) => peer.connected));
    await withDeadline(Promise.all(peers.map((peer) => peer.closed)), 'idle connections closed');
    for (const peer of peers) assert.equal(peer.received(), '');
  });

  test('a keep-alive connection is closed once idle, not while a long-poll is in flight', async () => {
    const peer = connect(server.port);
    await peer.connected;
    peer.socket.write(`GET ${HANDSHAKE} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const sid = await handshakeSid(peer);
    // The long-poll waits for the first ping (1.5 s), well past the 600 ms keep-alive timeout.
    peer.socket.write(`GET ${HANDSHAKE}&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitUntil(() => /\r\n2$/.test(peer.received()), 'the ping answering the long-poll');
    // Then idle again: closed by the keep-alive timeout.
    await withDeadline(peer.closed, 'close once idle after the long-poll');
  });

  test('a head that trickles in slower than the header-read timeout is cut off', async () => {
    const peer = connect(server.port);
    await peer.connected;
    peer.socket.write(`GET ${HANDSHAKE} HTTP/1.1\r\n`);
    const trickle = setInterval(() => {
      if (!peer.socket.destroyed) peer.socket.write('X-Slow: 1\r\n');
    }, 100);
    try {
      await withDeadline(peer.closed, 'close of a trickling head');
    } finally {
      clearInterval(trickle);
    }
    assert.doesNotMatch(peer.received(), /^HTTP\/1\.1 200 /);
  });

  test('a POST declaring a body over max_payload gets 413 at once', async () => {
    const { peer, sid } = await openSession(server.port);
    const post = connect(server.port);
    await post.connected;
    post.socket.write(
      `POST ${HANDSHAKE}&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000000\r\n\r\n4x`,
    );
    await waitUntil(() => post.received().startsWith('HTTP/1.1 413 '), '413 for a declared 100 MB body');
    // As Node, the body is refused and the session goes on.
    const next = await fetch(`${server.url}${HANDSHAKE}&sid=${sid}`, { method: 'POST', body: '40' });
    assert.equal(next.status, 200);
    peer.socket.destroy();
    post.socket.destroy();
  });

  test('a POST body that stalls is answered with 408 after the request timeout', async () => {
    const { peer, sid } = await openSession(server.port);
    const post = connect(server.port);
    await post.connected;
    post.socket.write(
      `POST ${HANDSHAKE}&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n4abc`,
    );
    await waitUntil(() => post.received().startsWith('HTTP/1.1 408 '), '408 for a stalled body');
    // The session is gone: its next poll is refused.
    const res = await fetch(`${server.url}${HANDSHAKE}&sid=${sid}`);
    assert.equal(res.status, 400);
    peer.socket.destroy();
    post.socket.destroy();
  });

  test('a WebSocket outlives the keep-alive timeout', async () => {
    const client = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    try {
      await withDeadline(new Promise((resolve) => client.once('connect', resolve)), 'connect');
      let disconnected = false;
      client.once('disconnect', () => {
        disconnected = true;
      });
      await sleep(2000);
      assert.equal(disconnected, false);
      assert.deepEqual(await client.timeout(3000).emitWithAck('echo', 'still here'), 'still here');
    } finally {
      client.close();
    }
  });

  test('a polling client goes on across keep-alive closes', async () => {
    const client = io(server.url, { transports: ['polling'], forceNew: true, reconnection: false });
    try {
      await withDeadline(new Promise((resolve) => client.once('connect', resolve)), 'connect');
      await sleep(2000);
      assert.equal(client.connected, true);
      assert.deepEqual(await client.timeout(3000).emitWithAck('echo', 'polling'), 'polling');
    } finally {
      client.close();
    }
  });

  test('the server still answers after all of the above', async () => {
    const idle = connect(server.port);
    await idle.connected;
    assert.equal(await settlesWithin(idle.closed, 100), false);
    const res = await fetch(`${server.url}${HANDSHAKE}`);
    assert.equal(res.status, 200);
    idle.socket.destroy();
  });
});
