// Bad input at the Socket.IO level, sent over a raw WebSocket: which packets close the connection
// and which are ignored, with the server still serving a well-behaved client afterwards. Also the
// probe's `{ error }` ack when a handler fails on a malformed request.
//
// Node's socket.io closes the connection when the decoder throws (`Client.ondata` → `onerror` in
// packages/socket.io/lib/client.ts) and when a packet does not fit the connection's state
// (`Client.ondecoded`, "invalid state"). It sends nothing before closing: no DISCONNECT, no
// Engine.IO close packet, only the WebSocket close frame, without status code
// (`WebSocket.doClose` in packages/engine.io/lib/transports/websocket.ts).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { TARGET, startServer } from '../lib/server.mjs';
import { RawClient, TRANSPORTS, closeAll, connect, emitWithAck, manager, waitFor } from './helpers.mjs';

let server;
before(async () => {
  server = await startServer('probe');
});
after(() => server?.stop());
afterEach(closeAll);

const placeholder = (num) => `{"_placeholder":true,"num":${num}}`;
const bytes = (...values) => Buffer.from(values);
const RESERVED = [
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
];

// A case: the namespaces the raw client joins first (`nsps`), what it then sends (`send`:
// Socket.IO packets as strings, binary attachments as Buffers), and whether Node closes the
// connection or ignores the input; `reply` lists what Node answers to input it accepts.
const closes = (title, nsps, ...send) => ({ title, nsps, send, outcome: 'close', reply: [] });
const ignores = (title, nsps, send, reply = []) => ({
  title,
  nsps,
  send,
  outcome: 'ignore',
  reply,
});

const CASES = [
  closes('an EVENT before any CONNECT', [], '2["echo","x"]'),
  closes('an EVENT with an ack id before any CONNECT', [], '21["echo","x"]'),
  closes('an EVENT for a namespace not joined', ['/chat'], '21["echo","x"]'),
  closes('a second CONNECT to /', ['/'], '0'),
  closes('a second CONNECT to /chat', ['/chat'], '0/chat,'),
  closes('a CONNECT_ERROR packet from the client', ['/'], '4{"message":"x"}'),
  closes('a CONNECT whose auth is not an object', [], '0"token"'),
  closes('a truncated EVENT `2[`', ['/'], '2['),
  closes('an unknown packet type `9`', ['/'], '9'),
  closes('an empty packet', ['/'], ''),
  // Without a comma the whole rest is the namespace, and the EVENT has no payload.
  closes('`2/chat` without comma on a connection not in /chat', ['/'], '2/chat'),
  // An EVENT without payload passes the decoder (the payload check runs only when there is one,
  // `Decoder.decodeString` in packages/socket.io-parser/lib/index.ts) and dispatches no event.
  ignores('`2/chat` without comma on a connection in /chat', ['/chat'], ['2/chat']),
  ignores('an EVENT without payload on /', ['/'], ['2']),
  closes('a BINARY_EVENT header `51-` followed by text', ['/'], '51-', '2["echo"]'),
  ignores('an ACK with an id never issued', ['/'], ['3999["x"]']),
  ignores('an ACK without id', ['/'], ['3["x"]']),
  ignores('a BINARY_ACK with an id never issued', ['/'], [`61-99[${placeholder(0)}]`, bytes(1)]),
  closes('invalid JSON', ['/'], '2["echo",]'),
  closes('an EVENT whose payload is an object', ['/'], '2{"a":1}'),
  closes('an EVENT whose payload is an empty array', ['/'], '2[]'),
  // A number is a valid event name; the probe has no handler for it and sends no ack.
  ignores('an EVENT named by a number', ['/'], ['21[5]']),
  ...RESERVED.map((name) => closes(`an EVENT named "${name}" (reserved)`, ['/'], `2["${name}"]`)),
  closes(
    'a placeholder beyond the attachment count',
    ['/'],
    `51-1["echo",${placeholder(0)},${placeholder(1)}]`,
    bytes(1),
  ),
  closes(
    'a placeholder whose num is not a number',
    ['/'],
    '51-1["echo",{"_placeholder":true,"num":"0"}]',
    bytes(1),
  ),
  closes(
    'text while attachments are still expected',
    ['/'],
    `52-1["echo",${placeholder(0)}]`,
    bytes(1),
    '2["echo"]',
  ),
  // The decoder waits for the announced number of attachments, not for the placeholders
  // (`BinaryReconstructor.takeBinaryData` in packages/socket.io-parser/lib/index.ts).
  ignores(
    'more attachments announced and sent than placeholders',
    ['/'],
    [`52-1["echo",${placeholder(0)}]`, bytes(1), bytes(2)],
    [`61-1[${placeholder(0)}]`, bytes(1)],
  ),
  ignores(
    'an attachment announced but no placeholder',
    ['/'],
    ['51-1["echo","x"]', bytes(1)],
    ['31["x"]'],
  ),
  closes('a binary frame without BINARY_EVENT header', ['/'], bytes(1)),
  closes('zero attachments `50-`', ['/'], '50-["echo"]'),
  closes('more than 10 attachments', ['/'], '511-["echo"]'),
  closes('an attachment count that is not a number', ['/'], '5x-["echo"]'),
];

for (const { name, transports } of TRANSPORTS) {
  describe(`raw Socket.IO input, with a client over ${name} alongside`, () => {
    for (const { title, nsps, send, outcome, reply } of CASES) {
      it(`${title}: ${outcome === 'close' ? 'closes the connection' : 'is ignored'}`, async () => {
        const { socket: bystander } = await connect(server.url, '/', transports);
        const raw = await RawClient.open(server.port);
        for (const nsp of nsps) await raw.connect(nsp);

        for (const frame of send) {
          if (typeof frame === 'string') raw.send(frame);
          else raw.sendBinary(frame);
        }

        if (outcome === 'close') {
          await raw.waitClosed();
          assert.deepEqual(raw.frames, []);
          assert.deepEqual(raw.engineFrames, []);
        } else {
          const received = [];
          while (received.length < reply.length) received.push(await raw.next());
          assert.deepEqual(received, reply);
          // The next packet is the answer to a fresh request: nothing else was sent.
          const prefix = nsps[0] === '/' ? '' : `${nsps[0]},`;
          raw.send(`2${prefix}77["echo","alive"]`);
          assert.equal(await raw.next(), `3${prefix}77["alive"]`);
        }

        assert.equal(await emitWithAck(bystander, 'echo', 'still here'), 'still here');
      });
    }
  });

  describe(`failing probe handlers over ${name}`, () => {
    // Each request is malformed for its handler, which throws in Node's probe.
    const REQUESTS = [
      ['broadcast', { from: 'nowhere', event: 'x', args: [] }],
      ['broadcast', null],
      ['fetch', null],
      ['socketsJoin', null],
      ['socketsLeave', null],
      ['kick', null],
      ['requestAck', null],
      ['broadcastWithAck', null],
      ['serverSideEmit', null],
      ['blast', null],
    ];
    for (const [event, arg] of REQUESTS) {
      it(`${event} with ${JSON.stringify(arg)} acks { error } and the socket stays usable`, async () => {
        const { socket } = await connect(server.url, '/', transports);
        const reply = await emitWithAck(socket, event, arg);
        assert.deepEqual(Object.keys(reply), ['error']);
        assert.equal(typeof reply.error, 'string');
        assert.notEqual(reply.error, '');
        assert.equal(socket.connected, true);
        assert.equal(await emitWithAck(socket, 'echo', 'after'), 'after');
      });
    }
  });
}

// roomcast bounds how many namespaces one connection may be in (max_namespaces_per_connection,
// 100 by default); Node has none, so a client could make it hold a socket per dynamic namespace
// it names.
describe('one connection asking for more namespaces than allowed', { skip: TARGET === 'node' && 'Node has no such bound' }, () => {
  it('gets connect_error past 100, and its first 100 sockets go on', async () => {
    const m = manager(server.url, ['websocket']);
    const tag = `limit-${process.pid}`;
    const sockets = [];
    for (let i = 0; i < 100; i += 1) {
      const socket = m.socket(`/org-${tag}-${i}`);
      sockets.push(socket);
    }
    await Promise.all(sockets.map((socket) => waitFor(socket, 'hello')));
    const extra = m.socket(`/org-${tag}-100`);
    const [error] = await waitFor(extra, 'connect_error');
    assert.equal(error.message, 'too many namespaces on this connection');
    assert.equal(await emitWithAck(sockets[0], 'echo', 'still here'), 'still here');
    assert.equal(await emitWithAck(sockets[99], 'echo', 'me too'), 'me too');
    // Leaving one makes room for another.
    sockets[0].disconnect();
    await emitWithAck(sockets[1], 'echo', 'barrier');
    const again = m.socket(`/org-${tag}-101`);
    await waitFor(again, 'hello');
    // A second connection has its own 100.
    const other = await connect(server.url, `/org-${tag}-0`, ['websocket']);
    assert.equal(await emitWithAck(other.socket, 'echo', 'fresh'), 'fresh');
  });
});

// ServerOptions::max_attachments and max_attachment_bytes (probe MAX_ATTACHMENTS,
// MAX_ATTACHMENT_BYTES): a packet announcing more attachments, or whose attachments add up to
// more bytes, closes its connection; one within both goes through.
describe('binary attachment limits', { skip: TARGET === 'node' && 'Node has no such options' }, () => {
  let limited;
  before(async () => {
    limited = await startServer('probe', { MAX_ATTACHMENTS: '2', MAX_ATTACHMENT_BYTES: '1000' });
  });
  after(() => limited?.stop());

  const attempt = async (count, size) => {
    const { socket: bystander } = await connect(limited.url, '/', ['websocket']);
    const raw = await RawClient.open(limited.port);
    await raw.connect('/');
    const args = Array.from({ length: count }, (_, i) => placeholder(i)).join(',');
    raw.send(`5${count}-1["echo",${args}]`);
    for (let i = 0; i < count; i += 1) raw.sendBinary(Buffer.alloc(size, i));
    const outcome = await Promise.race([raw.waitClosed().then(() => 'closed'), raw.next().then((reply) => reply)]);
    assert.equal(await emitWithAck(bystander, 'echo', 'still here'), 'still here');
    return outcome;
  };

  it('a packet within both limits is echoed', async () => {
    assert.equal(await attempt(2, 400), `62-1[${placeholder(0)},${placeholder(1)}]`);
  });
  it('more attachments than max_attachments close the connection', async () => {
    assert.equal(await attempt(3, 10), 'closed');
  });
  it('attachments adding up to more than max_attachment_bytes close the connection', async () => {
    assert.equal(await attempt(2, 600), 'closed');
  });
});
