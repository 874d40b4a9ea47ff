// Shared helpers for the Socket.IO end-to-end tests: clients of the probe contract
// (/work/shared/CONTRACT.md) built on the official socket.io-client, and a raw WebSocket
// client that speaks the wire protocol directly.
import { Manager, io } from 'socket.io-client';
import WebSocket from 'ws';
import { DEADLINE_MS, emitWithAck, uniqueTag, waitUntil } from '../lib/util.mjs';

export { DEADLINE_MS, emitWithAck, uniqueTag, waitUntil };

/**
 * The transport settings every test runs under: WebSocket only, long-polling only, and the
 * client default (long-polling first, then upgrade to WebSocket).
 */
export const TRANSPORTS = [
  { name: 'websocket', transports: ['websocket'] },
  { name: 'polling', transports: ['polling'] },
  { name: 'upgrade', transports: ['polling', 'websocket'] },
];

/** A namespace that matches the probe's dynamic pattern and that no other test uses. */
let nspCounter = 0;
export function freshNamespace(label) {
  nspCounter += 1;
  return `/org-${label}-${process.pid}-${nspCounter}`;
}

/**
 * A `connect_error`'s message with what the client knows of its cause: the HTTP status of a
 * refused request, or the underlying socket error (a reset, a refused connection).
 */
function errorText(err) {
  const cause = err.description;
  if (cause === undefined || cause === null) return err.message;
  if (typeof cause === 'number') {
    const failure = err.context?.statusText;
    const detail = cause > 0 ? `HTTP ${cause}` : `no response: ${failure?.message ?? failure ?? 'no cause given'}`;
    return `${err.message} (${detail})`;
  }
  const detail = cause.error?.code ?? cause.error?.message ?? cause.code ?? cause.message ?? cause.type;
  return detail ? `${err.message} (${detail})` : err.message;
}

/**
 * Resolves with the arguments of the next `event` on `emitter`; rejects after `ms`.
 * A `connect_error` rejects too, unless it is the awaited event.
 */
export function waitFor(emitter, event, ms = DEADLINE_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no "${event}" within ${ms} ms`));
    }, ms);
    const onEvent = (...args) => {
      cleanup();
      resolve(args);
    };
    const onError = (err) => {
      cleanup();
      reject(new Error(`connect_error while waiting for "${event}": ${errorText(err)}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (event !== 'connect_error') emitter.off('connect_error', onError);
    };
    emitter.on(event, onEvent);
    if (event !== 'connect_error') emitter.on('connect_error', onError);
  });
}

/**
 * Resolves with the arguments of the next `event` on a socket that is reconnecting: the attempts
 * that fail before it (each a `connect_error`) are part of what is tested, not a failure.
 * Rejects after `ms`, with the last of those errors.
 */
export function waitPastConnectErrors(emitter, event, ms = DEADLINE_MS) {
  return new Promise((resolve, reject) => {
    let lastError;
    const onError = (err) => {
      lastError = err;
    };
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      emitter.off('connect_error', onError);
    };
    const onEvent = (...args) => {
      cleanup();
      resolve(args);
    };
    const timer = setTimeout(() => {
      cleanup();
      const last = lastError ? `; last connect_error: ${errorText(lastError)}` : '';
      reject(new Error(`no "${event}" within ${ms} ms${last}`));
    }, ms);
    emitter.on(event, onEvent);
    emitter.on('connect_error', onError);
  });
}

/**
 * Tracks every Manager and raw client the tests open, so that `closeAll()` (run after each test)
 * leaves no connection behind.
 */
const managers = new Set();
const rawClients = new Set();

/** A new Manager (one Engine.IO connection) on the probe, without automatic reconnection. */
export function manager(url, transports, opts = {}) {
  const m = new Manager(url, { transports, reconnection: false, timeout: DEADLINE_MS, ...opts });
  managers.add(m);
  return m;
}

/**
 * Opens a socket on `nsp` over its own connection and waits for the probe's `hello`.
 * Resolves with `{ socket, hello }`; rejects on `connect_error`.
 */
export async function connect(url, nsp, transports, opts = {}) {
  const socket = io(url + nsp, {
    forceNew: true,
    transports,
    reconnection: false,
    timeout: DEADLINE_MS,
    ...opts,
  });
  managers.add(socket.io);
  const [hello] = await waitFor(socket, 'hello');
  return { socket, hello };
}

/**
 * Opens a socket on `nsp` through an existing Manager (multiplexing; the Manager connects it on
 * creation) and waits for `hello`.
 */
export async function connectVia(mgr, nsp, opts = {}) {
  const socket = mgr.socket(nsp, opts);
  const [hello] = await waitFor(socket, 'hello');
  return { socket, hello };
}

/** Connects `count` clients to `nsp`, each over its own connection; resolves with the sockets. */
export async function connectMany(url, nsp, transports, count) {
  const clients = await Promise.all(
    Array.from({ length: count }, () => connect(url, nsp, transports)),
  );
  return clients.map((c) => c.socket);
}

/** Closes every connection opened through these helpers. */
export function closeAll() {
  for (const m of managers) {
    for (const socket of Object.values(m.nsps)) socket.disconnect();
    m.engine?.close();
  }
  managers.clear();
  for (const raw of rawClients) raw.close();
  rawClients.clear();
}

/** Emits `event` and resolves with every acknowledgement argument (bounded wait). */
export function emitWithAckAll(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(DEADLINE_MS).emit(event, ...args, (err, ...resp) => {
      if (err) reject(new Error(`no ack for "${event}" within ${DEADLINE_MS} ms`));
      else resolve(resp);
    });
  });
}

/** Records every event the socket receives as `[event, ...args]`. */
export function record(socket) {
  const events = [];
  socket.onAny((event, ...args) => events.push([event, ...args]));
  return events;
}

/**
 * Ordering barrier for negative checks. `driver` asks the probe to broadcast a `sentinel` event
 * to its whole namespace; once each of `receivers` (sockets of that namespace) has it, every
 * message emitted to them before has been delivered, because the server keeps the order of the
 * packets it writes to one connection.
 */
export async function sentinel(driver, receivers) {
  const tag = uniqueTag('sentinel');
  const arrivals = receivers.map(
    (socket) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.off('sentinel', onSentinel);
          reject(new Error(`sentinel ${tag} not received by ${socket.id}`));
        }, DEADLINE_MS);
        const onSentinel = (got) => {
          if (got !== tag) return;
          clearTimeout(timer);
          socket.off('sentinel', onSentinel);
          resolve();
        };
        socket.on('sentinel', onSentinel);
      }),
  );
  await emitWithAck(driver, 'broadcast', { from: 'server', event: 'sentinel', args: [tag] });
  await Promise.all(arrivals);
}

/** Deep copy of `value` where every ArrayBuffer / typed array / Buffer becomes a Buffer. */
export function normalizeBinary(value) {
  if (value instanceof ArrayBuffer) return Buffer.from(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (Array.isArray(value)) return value.map(normalizeBinary);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeBinary(v)]));
  }
  return value;
}

/**
 * A WebSocket speaking Socket.IO v5 over Engine.IO v4 frames directly, for input the official
 * client never sends. It answers Engine.IO pings itself; `frames` queues the Socket.IO packets
 * received (text without the Engine.IO `4` prefix, binary attachments as Buffers) and
 * `engineFrames` any other Engine.IO packet.
 */
export class RawClient {
  /** Opens the WebSocket transport and waits for the Engine.IO open packet. */
  static async open(port) {
    const raw = new RawClient(
      new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`),
    );
    rawClients.add(raw);
    await waitUntil(() => raw.engineFrames.length > 0, 'the Engine.IO open packet');
    const open = raw.engineFrames.shift();
    if (!open?.startsWith('0{')) throw new Error(`expected an Engine.IO open packet, got ${open}`);
    return raw;
  }

  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.engineFrames = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.frames.push(data);
      } else {
        const text = data.toString();
        if (text === '2') {
          ws.send('3');
          return;
        }
        if (text.startsWith('4')) this.frames.push(text.slice(1));
        else this.engineFrames.push(text);
      }
      this.waiters.shift()?.();
    });
    ws.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a Socket.IO packet in an Engine.IO message frame (`4` + text). */
  send(packet) {
    this.ws.send(`4${packet}`);
  }

  /** Sends a binary attachment frame. */
  sendBinary(bytes) {
    this.ws.send(bytes, { binary: true });
  }

  /** The next queued Socket.IO packet; rejects after `ms` or if the connection closes first. */
  async next(ms = DEADLINE_MS) {
    if (this.frames.length === 0 && this.isOpen) {
      let timer;
      await Promise.race([
        new Promise((resolve) => this.waiters.push(resolve)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, ms);
        }),
      ]);
      clearTimeout(timer);
    }
    if (this.frames.length === 0) {
      throw new Error(this.isOpen ? `no packet within ${ms} ms` : 'connection closed');
    }
    return this.frames.shift();
  }

  /** Sends CONNECT for `nsp`, consumes the reply and the probe's `hello`; resolves with the sid. */
  async connect(nsp = '/') {
    const prefix = nsp === '/' ? '' : `${nsp},`;
    this.send(`0${prefix}`);
    const reply = await this.next();
    if (!reply.startsWith(`0${prefix}{`)) throw new Error(`unexpected CONNECT reply ${reply}`);
    const hello = await this.next();
    if (!hello.startsWith(`2${prefix}["hello"`)) throw new Error(`expected hello, got ${hello}`);
    return JSON.parse(reply.slice(1 + prefix.length)).sid;
  }

  /** Resolves with the close code once the server has closed the connection; rejects after `ms`. */
  async waitClosed(ms = DEADLINE_MS) {
    let timer;
    const code = await Promise.race([
      this.closed,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('open'), ms);
      }),
    ]);
    clearTimeout(timer);
    if (code === 'open') throw new Error(`connection still open after ${ms} ms`);
    return code;
  }

  close() {
    this.ws.terminate();
  }
}
