// The Admin UI's protocol (`@socket.io/admin-ui` 0.5), spoken by socket.io-client as the UI speaks
// it, to a probe with ADMIN_UI=1 (development mode, user `admin`). Run with E2E_TARGET=node, the
// same tests check Node's `instrument()` on the Node probe.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { io } from 'socket.io-client';

import { TARGET, startServer } from '../lib/server.mjs';
import { DEADLINE_MS, closeAll, connect, emitWithAck, uniqueTag, waitFor, waitUntil } from './helpers.mjs';

const PASSWORD = 'e2e-admin-ui-password';
const SERVER_ID = 'probe-under-test';
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const SOCKET_KEYS = ['id', 'clientId', 'transport', 'nsp', 'data', 'handshake', 'rooms'];
const HANDSHAKE_KEYS = ['address', 'headers', 'query', 'issued', 'secure', 'time', 'url', 'xdomain'];
const STATS_KEYS = [
  'serverId',
  'hostname',
  'pid',
  'uptime',
  'clientsCount',
  'pollingClientsCount',
  'aggregatedEvents',
  'namespaces',
];
const ALL_FEATURES = ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS', 'ALL_EVENTS'];

/** The keys of an object (or a list of keys), sorted: JSON key order is not part of the protocol. */
const keys = (value) => (Array.isArray(value) ? [...value] : Object.keys(value)).sort();

const admins = new Set();

/** A socket on the admin namespace with the UI's options, recording every event it gets. */
function adminSocket(url, auth, transports = ['polling', 'websocket']) {
  const socket = io(`${url}/admin-ui`, {
    forceNew: true,
    reconnection: false,
    withCredentials: true,
    timeout: DEADLINE_MS,
    transports,
    auth,
  });
  socket.events = [];
  socket.onAny((event, ...args) => socket.events.push([event, ...args]));
  admins.add(socket);
  return socket;
}

/** Logs in; resolves with the connected admin socket. */
async function login(url, auth = { username: 'admin', password: PASSWORD }, transports) {
  const socket = adminSocket(url, auth, transports);
  await waitFor(socket, 'connect');
  return socket;
}

/** The arguments of every recorded `event` that `match` accepts. */
function seen(socket, event, match = () => true) {
  return socket.events.filter(([name, ...args]) => name === event && match(...args)).map(([, ...args]) => args);
}

/** The first recorded `event` that `match` accepts, waiting for it. */
function received(socket, event, match = () => true, ms = DEADLINE_MS) {
  return waitUntil(() => seen(socket, event, match)[0], `"${event}" on the admin socket`, ms);
}

/** Resolves with the `connect_error` message of a login with `auth`. */
async function refusal(url, auth) {
  const socket = adminSocket(url, auth);
  const [error] = await waitFor(socket, 'connect_error');
  return error.message;
}

function closeAdmins() {
  for (const socket of admins) socket.disconnect();
  admins.clear();
}

describe(`Admin UI protocol (${TARGET})`, () => {
  let server;
  before(async () => {
    server = await startServer('probe', {
      ADMIN_UI: '1',
      ADMIN_UI_PASSWORD: PASSWORD,
      ADMIN_UI_SERVER_ID: SERVER_ID,
    });
  });
  after(() => server?.stop());
  afterEach(() => {
    closeAdmins();
    closeAll();
  });

  it('refuses wrong credentials and unknown sessions with "invalid credentials"', async () => {
    const wrong = [
      { username: 'admin', password: 'not-it' },
      { username: 'root', password: PASSWORD },
      { username: '', password: '' },
      { sessionId: '0123456789abcdef' },
      { sessionId: null },
      {},
    ];
    // Node's instrument() crashes on a known user name without a password (bcryptjs throws in
    // the middleware); roomcast refuses it like any wrong password.
    if (TARGET !== 'node') wrong.push({ username: 'admin' }, { username: 'admin', password: 42 });
    for (const auth of wrong) {
      assert.equal(await refusal(server.url, auth), 'invalid credentials', JSON.stringify(auth));
    }
  });

  it('logs in with the password, issues a session, and the session logs in again', async () => {
    const first = await login(server.url);
    const [sessionId] = await received(first, 'session');
    assert.match(sessionId, /^[0-9a-f]{16}$/);
    const again = await login(server.url, { sessionId });
    await received(again, 'config');
    assert.deepEqual(seen(again, 'session'), [], 'a session login gets no new session');
  });

  it('sends config, then every socket, then server_stats every 2 seconds', async () => {
    const app = await connect(server.url, '/chat', ['websocket'], { query: { who: 'app' } });
    await emitWithAck(app.socket, 'join', 'lobby');
    const admin = await login(server.url);

    const [config] = await received(admin, 'config');
    assert.deepEqual(config, { supportedFeatures: ALL_FEATURES });

    const [sockets] = await received(admin, 'all_sockets');
    const mine = sockets.find((socket) => socket.id === admin.id);
    const theirs = sockets.find((socket) => socket.id === app.socket.id);
    assert.ok(mine && theirs, JSON.stringify(sockets));
    for (const socket of [mine, theirs]) {
      assert.deepEqual(keys(socket), keys(SOCKET_KEYS));
      assert.deepEqual(keys(socket.handshake), keys(HANDSHAKE_KEYS));
      assert.equal(typeof socket.handshake.issued, 'number');
      assert.equal(typeof socket.handshake.secure, 'boolean');
      assert.match(socket.handshake.url, /^\/socket\.io\/\?/);
    }
    assert.equal(mine.nsp, '/admin-ui');
    assert.equal(theirs.nsp, '/chat');
    assert.equal(theirs.transport, 'websocket');
    assert.equal(theirs.clientId, app.socket.io.engine.id.slice(0, 12));
    assert.equal(theirs.handshake.query.who, 'app');
    assert.deepEqual([...theirs.rooms].sort(), [app.socket.id, 'lobby'].sort());
    assert.ok(!('auth' in theirs.handshake));

    const [stats] = await received(admin, 'server_stats', () => true, 2 * DEADLINE_MS);
    assert.deepEqual(keys(stats), keys(STATS_KEYS));
    assert.equal(stats.serverId, SERVER_ID);
    assert.equal(typeof stats.hostname, 'string');
    assert.equal(typeof stats.pid, 'number');
    assert.ok(stats.uptime > 0, `uptime ${stats.uptime}`);
    assert.ok(stats.clientsCount >= 2, `clientsCount ${stats.clientsCount}`);
    assert.equal(typeof stats.pollingClientsCount, 'number');
    const count = (name) => stats.namespaces.find((nsp) => nsp.name === name)?.socketsCount;
    assert.equal(count('/admin-ui'), 1);
    assert.equal(count('/chat'), 1);
    const types = new Set(stats.aggregatedEvents.map((event) => event.type));
    for (const type of types) {
      assert.ok(['rawConnection', 'rawDisconnection', 'packetsIn', 'packetsOut', 'bytesIn', 'bytesOut'].includes(type), type);
    }
    for (const event of stats.aggregatedEvents) {
      assert.equal(event.timestamp % 1000, 0);
      assert.ok(event.count > 0);
    }
  });

  it('tells of every socket, room, upgrade and event as they happen', async () => {
    const admin = await login(server.url);
    await received(admin, 'all_sockets');
    const app = await connect(server.url, '/chat', ['polling', 'websocket']);
    const id = app.socket.id;

    const [socket, connectedAt] = await received(admin, 'socket_connected', (s) => s.id === id);
    assert.deepEqual(keys(socket), keys(SOCKET_KEYS));
    assert.equal(socket.nsp, '/chat');
    assert.match(connectedAt, ISO_DATE);
    const [, , , joinedAt] = await received(admin, 'room_joined', (nsp, room) => nsp === '/chat' && room === id);
    assert.match(joinedAt, ISO_DATE);
    await received(admin, 'socket_updated', (update) => update.id === id && update.transport === 'websocket');

    await emitWithAck(app.socket, 'join', 'lobby');
    await received(admin, 'room_joined', (nsp, room, socketId) => room === 'lobby' && socketId === id);
    const [nsp, socketId, args, at] = await received(admin, 'event_received', (_, s, [event]) => s === id && event === 'join');
    assert.equal(nsp, '/chat');
    assert.equal(socketId, id);
    assert.deepEqual(args, ['join', 'lobby']);
    assert.match(at, ISO_DATE);

    await emitWithAck(app.socket, 'broadcast', { from: 'server', to: 'lobby', event: 'news', args: [{ n: 1 }] });
    const [, , sent] = await received(admin, 'event_sent', (_, s, [event]) => s === id && event === 'news');
    assert.deepEqual(sent, ['news', { n: 1 }]);
    // Acknowledgements are not events: the UI is not told of them.
    assert.deepEqual(seen(admin, 'event_sent', (_, s, [event]) => s === id && event !== 'news' && event !== 'hello'), []);

    app.socket.disconnect();
    const [, , reason, leftAt] = await received(admin, 'socket_disconnected', (_, s) => s === id);
    assert.equal(reason, 'client namespace disconnect');
    assert.match(leftAt, ISO_DATE);
    await received(admin, 'room_left', (_, room, s) => room === 'lobby' && s === id);
    await received(admin, 'room_left', (_, room, s) => room === id && s === id);
  });

  it('acts: join, leave, emit and disconnect, on one socket or a whole namespace', async () => {
    const admin = await login(server.url);
    await received(admin, 'all_sockets');
    const nsp = '/chat';
    const one = await connect(server.url, nsp, ['websocket']);
    const two = await connect(server.url, nsp, ['websocket']);
    const room = uniqueTag('room');

    admin.emit('join', nsp, room, one.socket.id);
    await received(admin, 'room_joined', (_, r, s) => r === room && s === one.socket.id);
    admin.emit('emit', nsp, room, 'announce', { to: 'room' }, 2);
    assert.deepEqual(await waitFor(one.socket, 'announce'), [{ to: 'room' }, 2]);

    admin.emit('leave', nsp, room, one.socket.id);
    await received(admin, 'room_left', (_, r, s) => r === room && s === one.socket.id);

    admin.emit('join', nsp, room);
    await received(admin, 'room_joined', (_, r, s) => r === room && s === two.socket.id);
    await received(admin, 'room_joined', (_, r, s) => r === room && s === one.socket.id);
    const both = [waitFor(one.socket, 'announce'), waitFor(two.socket, 'announce')];
    admin.emit('emit', nsp, null, 'announce', 'everyone');
    assert.deepEqual(await Promise.all(both), [['everyone'], ['everyone']]);
    admin.emit('leave', nsp, room);
    await received(admin, 'room_left', (_, r, s) => r === room && s === one.socket.id);
    await received(admin, 'room_left', (_, r, s) => r === room && s === two.socket.id);

    const kicked = waitFor(one.socket, 'disconnect');
    const oneId = one.socket.id;
    admin.emit('_disconnect', nsp, false, oneId);
    assert.equal((await kicked)[0], 'io server disconnect');
    const [, , reason] = await received(admin, 'socket_disconnected', (_, s) => s === oneId);
    assert.equal(reason, 'server namespace disconnect');

    // With `close`, the whole connection goes (the UI's "disconnect client").
    const closed = waitFor(two.socket.io.engine, 'close');
    admin.emit('_disconnect', nsp, true, two.socket.id);
    await closed;
    assert.equal(two.socket.connected, false);
  });

  // Node's instrument() lets some of these throw in its handlers; roomcast logs and goes on.
  it('survives actions with wrong arguments and still acts afterwards', { skip: TARGET === 'node' && 'Node does not' }, async () => {
    const admin = await login(server.url);
    await received(admin, 'all_sockets');
    const app = await connect(server.url, '/chat', ['websocket']);
    admin.emit('join', 42, { not: 'a room' });
    admin.emit('leave');
    admin.emit('_disconnect', '/chat', 'yes', [app.socket.id]);
    admin.emit('emit', null);
    admin.emit('emit', '/chat', app.socket.id, 7);
    admin.emit('no-such-action', 1, 2, 3);
    const announced = waitFor(app.socket, 'announce');
    admin.emit('emit', '/chat', app.socket.id, 'announce', 'still here');
    assert.deepEqual(await announced, ['still here']);
    assert.ok(app.socket.connected && admin.connected);
  });
});

describe(`Admin UI protocol, read-only and production mode, no auth (${TARGET})`, () => {
  let server;
  before(async () => {
    server = await startServer('probe', { ADMIN_UI: '1', ADMIN_UI_READONLY: '1', ADMIN_UI_MODE: 'production' });
  });
  after(() => server?.stop());
  afterEach(() => {
    closeAdmins();
    closeAll();
  });

  it('lets anyone in, announces no action, tells only stats and ignores actions', async () => {
    const admin = await login(server.url, { username: '', password: '' });
    const [config] = await received(admin, 'config');
    assert.deepEqual(config, { supportedFeatures: ['AGGREGATED_EVENTS'] });
    const app = await connect(server.url, '/chat', ['websocket']);
    admin.emit('_disconnect', '/chat', false, app.socket.id);
    admin.emit('emit', '/chat', null, 'announce', 'nope');
    // Two rounds of stats: the actions, sent before, have long been handled.
    const [first] = await received(admin, 'server_stats', () => true, 2 * DEADLINE_MS);
    await received(admin, 'server_stats', (stats) => stats !== first && stats.uptime > first.uptime, 2 * DEADLINE_MS);
    assert.ok(app.socket.connected);
    assert.deepEqual(await emitWithAck(app.socket, 'echo', 'alive'), 'alive');
    const names = new Set(admin.events.map(([event]) => event));
    assert.deepEqual([...names].sort(), ['config', 'server_stats']);
  });
});
