// Shared helpers for the chat demo's end-to-end tests (roomcast-chat, driven by the official
// socket.io-client).
//
// Every socket records each event it receives from its creation on (`socket.events`), so a test
// can wait for an event that may already have arrived, and check afterwards that an event never
// came. Such a negative check always waits for a barrier first (see `barrier`), never a sleep.
import { io } from 'socket.io-client';
import { TARGET, startServer } from '../lib/server.mjs';
import { DEADLINE_MS, emitWithAck, uniqueTag, waitUntil } from '../lib/util.mjs';

export { DEADLINE_MS, waitUntil };
/** Emits `event` and resolves with the acknowledgement (bounded wait). */
export const ask = emitWithAck;
/** A name no other test uses: a valid username, and a valid room name for lower-case prefixes. */
export const unique = uniqueTag;

/** The admin token the test servers run with. */
export const ADMIN_TOKEN = 'e2e-admin-token';

/** Why the chat tests skip (there is no Node twin of the demo), or false when they run. */
export const SKIP = TARGET === 'node' ? 'the chat demo has no Node twin' : false;

/**
 * Starts roomcast-chat with the test admin token, a short recovery window (a dropped user is
 * said to have left 300 ms after the drop, unless it came back), and `env`.
 */
export function startChat(env = {}) {
  return startServer('chat', { ADMIN_TOKEN, RECOVERY_WINDOW_MS: '300', ...env });
}

const opened = new Set();

/** A socket on `nsp` over its own connection, recording its events, not yet connected. */
function socketFor(url, nsp, auth, opts = {}) {
  const socket = io(url + nsp, {
    forceNew: true,
    reconnection: false,
    timeout: DEADLINE_MS,
    auth,
    ...opts,
  });
  socket.events = [];
  // The chat runs with connection state recovery: an event it sends may carry its offset as its
  // last argument (a number in text: `7`, or a Redis stream id: `1796-0`). Recorded without it.
  socket.onAny((event, ...args) => socket.events.push([event, ...withoutOffset(socket, args)]));
  opened.add(socket);
  return socket;
}

/** The arguments of an event without the recovery offset, when it has one. */
function withoutOffset(socket, args) {
  const last = args.at(-1);
  const offset = socket._pid && typeof last === 'string' && /^\d+(-\d+)?$/.test(last);
  return offset ? args.slice(0, -1) : args;
}

/** Resolves once `socket` connects; rejects with the refusal on `connect_error`. */
function connected(socket) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connect within the deadline')), DEADLINE_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(new Error(`connect_error: ${err.message}`));
    });
  });
}

/**
 * Connects to /chat as `username` and resolves once the server has run its connect handler
 * (the socket is in `general` and `general` has been told): a first acknowledged event is only
 * handled after that.
 */
export async function joinChat(url, username, opts = {}) {
  const socket = await connected(socketFor(url, '/chat', { username }, opts));
  await ask(socket, 'listUsers');
  return socket;
}

/** Connects to /admin with `token`. */
export function joinAdmin(url, token = ADMIN_TOKEN, opts = {}) {
  return connected(socketFor(url, '/admin', { token }, opts));
}

/** Tries to connect to `nsp` with `auth` and resolves with the `connect_error` message. */
export function refusal(url, nsp, auth) {
  const socket = socketFor(url, nsp, auth);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connect_error within the deadline')), DEADLINE_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      reject(new Error(`${nsp} accepted ${JSON.stringify(auth)}`));
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      resolve(err.message);
    });
  });
}

/** The arguments of every recorded `event` of `socket` that `match` accepts. */
export function seen(socket, event, match = () => true) {
  return socket.events.filter(([name, ...args]) => name === event && match(...args)).map(([, ...args]) => args);
}

/** Resolves with the arguments of the first recorded `event` that `match` accepts, waiting for it. */
export async function received(socket, event, match = () => true) {
  const found = await waitUntil(
    () => seen(socket, event, match)[0],
    `"${event}" on ${socket.nsp} socket ${socket.id}`,
  );
  return found;
}

/** Moves `socket` to `room` and resolves once it is told the move happened. */
export async function switchTo(socket, room) {
  socket.emit('switchRoom', room);
  await received(socket, 'roomChanged', (name) => name === room);
}

/**
 * Ordering barrier for negative checks. Once the server has handled some event (the test knows
 * it from an answer it got), each socket of `sockets` asks for an acknowledgement: the server
 * writes a connection's packets in order, so anything it had sent to that socket before has
 * arrived by the time the acknowledgement does.
 */
export async function barrier(...sockets) {
  await Promise.all(
    sockets.map((socket) => ask(socket, socket.nsp === '/admin' ? 'getStats' : 'listUsers')),
  );
}

/** Resolves with the reason once `socket` is disconnected. */
export function disconnection(socket) {
  if (!socket.connected) return Promise.resolve('already disconnected');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no disconnect within the deadline')), DEADLINE_MS);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** Closes every socket opened through these helpers. */
export function closeAll() {
  for (const socket of opened) {
    socket.disconnect();
    socket.io.engine?.close();
  }
  opened.clear();
}
