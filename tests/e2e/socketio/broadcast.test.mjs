// Broadcast operators: exactly who receives an event for every combination of origin (server or
// socket), `to` and `except`, including private messages to a socket id and namespace isolation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  TRANSPORTS,
  closeAll,
  connect,
  connectVia,
  emitWithAck,
  manager,
  record,
  sentinel,
  uniqueTag,
} from './helpers.mjs';

let server;
before(async () => {
  server = await startServer('probe');
});
after(() => server?.stop());

// Clients A–E are on `/`, X and F on `/chat`; X shares A's connection. The same room names
// exist in both namespaces. `#E` stands for E's socket id, the room of its id.
const MEMBERSHIP = {
  A: { nsp: '/', rooms: ['r1'] },
  B: { nsp: '/', rooms: ['r1', 'r2'] },
  C: { nsp: '/', rooms: ['r2'] },
  D: { nsp: '/', rooms: ['r3'] },
  E: { nsp: '/', rooms: [] },
  X: { nsp: '/chat', rooms: ['r1'], via: 'A' },
  F: { nsp: '/chat', rooms: ['r1', 'r2'] },
};

// Each row: title, the client sending the `broadcast` request, the request's routing fields,
// and the clients that receive the event exactly once; every other client receives nothing.
const CASES = [
  ['server to the whole namespace', 'A', { from: 'server' }, 'ABCDE'],
  ['server to one room', 'C', { from: 'server', to: ['r1'] }, 'AB'],
  ['server to two rooms: their union, once each', 'E', { from: 'server', to: ['r1', 'r2'] }, 'ABC'],
  ['server except a room', 'A', { from: 'server', except: ['r1'] }, 'CDE'],
  ['server to a room except another', 'A', { from: 'server', to: ['r2'], except: ['r1'] }, 'C'],
  ['server to two rooms except one', 'A', { from: 'server', to: ['r1', 'r3'], except: ['r2'] }, 'AD'],
  ['server to a socket id (private message)', 'A', { from: 'server', to: ['#E'] }, 'E'],
  ['server to a socket id and a room', 'C', { from: 'server', to: ['#E', 'r3'] }, 'DE'],
  ['socket without `to`: everyone but the sender', 'A', { from: 'socket' }, 'BCDE'],
  ['socket to a room it is in: sender excluded', 'A', { from: 'socket', to: ['r1'] }, 'B'],
  ['socket to both its rooms: sender excluded', 'B', { from: 'socket', to: ['r1', 'r2'] }, 'AC'],
  ['socket to a room it is not in', 'E', { from: 'socket', to: ['r2'] }, 'BC'],
  ['socket without `to` except a room', 'A', { from: 'socket', except: ['r2'] }, 'DE'],
  ['socket to a room except another', 'D', { from: 'socket', to: ['r1'], except: ['r2'] }, 'A'],
  ['socket to a socket id (private message)', 'A', { from: 'socket', to: ['#E'] }, 'E'],
  ['`to` given as a string', 'A', { from: 'server', to: 'r1' }, 'AB'],
  ['`except` given as a string', 'A', { from: 'server', except: 'r1' }, 'CDE'],
  ['server with empty `to`: the whole namespace', 'A', { from: 'server', to: [] }, 'ABCDE'],
  ['socket with empty `to`: socket.broadcast', 'A', { from: 'socket', to: [] }, 'BCDE'],
  ['empty `except` excludes no one', 'A', { from: 'server', except: [] }, 'ABCDE'],
  ['server in /chat stays in /chat', 'F', { from: 'server' }, 'XF'],
  ['server to a room in /chat skips that room in /', 'X', { from: 'server', to: ['r1'] }, 'XF'],
  ['socket in /chat skips its connection\'s socket in /', 'X', { from: 'socket' }, 'F'],
  ['server to a room in / skips that room in /chat', 'A', { from: 'server', to: ['r1'] }, 'AB'],
];

for (const { name, transports } of TRANSPORTS) {
  describe(`broadcast over ${name}`, () => {
    const clients = {};
    const received = {};
    // Room names are made unique so that clients of other transports never share them.
    const roomNames = { r1: uniqueTag('r1'), r2: uniqueTag('r2'), r3: uniqueTag('r3') };
    const resolve = (room) => (room.startsWith('#') ? clients[room.slice(1)].id : roomNames[room]);
    const resolveRooms = (rooms) =>
      typeof rooms === 'string' ? resolve(rooms) : rooms.map(resolve);

    before(async () => {
      for (const [client, { nsp, via }] of Object.entries(MEMBERSHIP)) {
        clients[client] = via
          ? (await connectVia(clients[via].io, nsp)).socket
          : (await connect(server.url, nsp, transports)).socket;
        received[client] = record(clients[client]);
      }
      for (const [client, { rooms }] of Object.entries(MEMBERSHIP)) {
        await emitWithAck(clients[client], 'join', rooms.map(resolve));
      }
    });
    after(closeAll);

    for (const [title, by, req, expect] of CASES) {
      it(title, async () => {
        const sender = clients[by];
        const tag = uniqueTag('news');
        const request = { ...req, event: 'news', args: [tag, { n: 1 }] };
        if ('to' in req) request.to = resolveRooms(req.to);
        if ('except' in req) request.except = resolveRooms(req.except);
        assert.equal(await emitWithAck(sender, 'broadcast', request), true);

        const root = Object.keys(MEMBERSHIP).filter((c) => MEMBERSHIP[c].nsp === '/');
        const chat = Object.keys(MEMBERSHIP).filter((c) => MEMBERSHIP[c].nsp === '/chat');
        await Promise.all([
          sentinel(clients.A, root.map((c) => clients[c])),
          sentinel(clients.F, chat.map((c) => clients[c])),
        ]);

        const got = {};
        const want = {};
        for (const client of Object.keys(MEMBERSHIP)) {
          got[client] = received[client].filter(([event, t]) => event === 'news' && t === tag);
          want[client] = expect.includes(client) ? [['news', tag, { n: 1 }]] : [];
        }
        assert.deepEqual(got, want);
      });
    }
  });
}
