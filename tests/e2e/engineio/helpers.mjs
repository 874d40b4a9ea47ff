// Raw Engine.IO v4 clients for the end-to-end tests: a long-polling session driven with `fetch`,
// a WebSocket client built on `ws`, and the payload codec of the polling transport.
// Every wait is bounded: a helper that does not get what it waits for within its deadline throws.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

/** Record separator between packets of a polling payload. */
export const SEPARATOR = '\x1e';
/** How long a helper waits for an answer before it fails the test. */
export const DEADLINE_MS = 5000;

/** URL of the Engine.IO endpoint of the server at `base` (http://host:port) with `query`. */
export function engineUrl(base, query) {
  return `${base}/engine.io/?${query}`;
}

/** Rejects with an error naming `what` unless `promise` settles within `ms`. */
export async function withDeadline(promise, what, ms = DEADLINE_MS) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Encodes packets for a polling POST: strings as they are, binary as `b<base64>`. */
export function encodePayload(packets) {
  return packets
    .map((p) => (typeof p === 'string' ? p : `b${Buffer.from(p).toString('base64')}`))
    .join(SEPARATOR);
}

/** Decodes a polling response body: `b<base64>` packets become Buffers, others stay strings. */
export function decodePayload(body) {
  return body
    .split(SEPARATOR)
    .map((p) => (p.startsWith('b') ? Buffer.from(p.slice(1), 'base64') : p));
}

/** One HTTP request; resolves with `{ status, headers, body }` (body as text). */
export async function request(url, { method = 'GET', body, headers, deadline = DEADLINE_MS } = {}) {
  let res;
  try {
    res = await fetch(url, { method, body, headers, signal: AbortSignal.timeout(deadline) });
  } catch (err) {
    throw new Error(`${method} ${url}: ${err.message}`, { cause: err });
  }
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** Asserts an Engine.IO HTTP error: status, `application/json` and body `{code, message}`. */
export function assertEngineError(res, { status = 400, code, message }) {
  assert.equal(res.status, status, `status (body ${JSON.stringify(res.body)})`);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(parseJson(res.body), { code, message }, `body ${JSON.stringify(res.body)}`);
}

export const UNKNOWN_TRANSPORT = { code: 0, message: 'Transport unknown' };
export const UNKNOWN_SID = { code: 1, message: 'Session ID unknown' };
export const BAD_HANDSHAKE_METHOD = { code: 2, message: 'Bad handshake method' };
export const BAD_REQUEST = { code: 3, message: 'Bad request' };
export const UNSUPPORTED_PROTOCOL_VERSION = { code: 5, message: 'Unsupported protocol version' };

/**
 * Waits until the server has forgotten the websocket session `sid`: a polling request naming it is
 * refused with "Session ID unknown". While the session still exists such a request is refused as a
 * transport mismatch ("Bad request"), which is retried.
 */
export async function assertWebSocketSidForgotten(base, sid, deadline = DEADLINE_MS) {
  const url = engineUrl(base, `EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`);
  const end = Date.now() + deadline;
  for (;;) {
    const res = await request(url, { deadline: Math.max(end - Date.now(), 1) });
    const stillKnown = res.status === 400 && parseJson(res.body)?.code === BAD_REQUEST.code;
    if (!stillKnown || Date.now() >= end) return assertEngineError(res, UNKNOWN_SID);
    await sleep(20);
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A text message with a payload nobody else uses, to recognise its echo. */
export function uniqueMessage(label = 'msg') {
  return `4${label}-${randomUUID()}`;
}

/** A long-polling session opened with a raw handshake. */
export class PollingSession {
  /** Performs the polling handshake (GET without sid) and returns the session. */
  static async open(base) {
    const res = await request(engineUrl(base, 'EIO=4&transport=polling'));
    assert.equal(res.status, 200, `handshake status (body ${JSON.stringify(res.body)})`);
    assert.ok(res.body.startsWith('0'), `handshake body is an open packet: ${res.body}`);
    return new PollingSession(base, JSON.parse(res.body.slice(1)));
  }

  constructor(base, openPacket) {
    this.base = base;
    this.openPacket = openPacket;
    this.sid = openPacket.sid;
    this.url = engineUrl(base, `EIO=4&transport=polling&sid=${encodeURIComponent(this.sid)}`);
  }

  /** A GET on the session (a poll); resolves when the server answers it. */
  get(options) {
    return request(this.url, options);
  }

  /** A POST of a raw body on the session. */
  post(body, options) {
    return request(this.url, { ...options, method: 'POST', body });
  }

  /** POSTs `packets` (strings or binary) and asserts the `ok` answer. */
  async send(...packets) {
    const res = await this.post(encodePayload(packets));
    assert.equal(res.status, 200, `POST status (body ${JSON.stringify(res.body)})`);
    assert.equal(res.body, 'ok');
  }

  /** One successful poll, decoded. */
  async poll() {
    const res = await this.get();
    assert.equal(res.status, 200, `poll status (body ${JSON.stringify(res.body)})`);
    return decodePayload(res.body);
  }

  /** Polls until `count` packets have arrived and returns them in arrival order. */
  async receive(count, deadline = DEADLINE_MS) {
    const end = Date.now() + deadline;
    const packets = [];
    while (packets.length < count) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`received ${packets.length} of ${count} packets`);
      const res = await this.get({ deadline: left });
      assert.equal(res.status, 200, `poll status (body ${JSON.stringify(res.body)})`);
      packets.push(...decodePayload(res.body));
    }
    return packets;
  }

  /** Asserts that a fresh message is echoed back on this session. */
  async assertEchoes() {
    const message = uniqueMessage('echo');
    await this.send(message);
    assert.deepEqual(await this.receive(1), [message]);
  }

  /**
   * Asserts that the session is (or soon becomes) closed: polls until a request is refused with
   * 400 "Session ID unknown". Polls answered in between (e.g. a pending GET that the server ends
   * with a close packet when it tears the session down) are skipped. A session that stays open
   * leaves the poll pending until the deadline, which fails.
   */
  async assertClosed(deadline = DEADLINE_MS) {
    const end = Date.now() + deadline;
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`session ${this.sid} still open`);
      let res;
      try {
        res = await this.get({ deadline: left });
      } catch (err) {
        throw new Error(`session ${this.sid} still open`, { cause: err });
      }
      if (res.status !== 200) {
        assertEngineError(res, UNKNOWN_SID);
        return;
      }
    }
  }
}

/** Queue of incoming items that a test takes one at a time, each with a deadline. */
class Inbox {
  #items = [];
  #waiters = [];
  #endReason = null;

  push(item) {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.#items.push(item);
  }

  end(reason) {
    this.#endReason = reason;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error(reason));
  }

  next(deadline = DEADLINE_MS) {
    if (this.#items.length) return Promise.resolve(this.#items.shift());
    if (this.#endReason) return Promise.reject(new Error(this.#endReason));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no message within ${deadline} ms`));
      }, deadline);
      this.#waiters.push(waiter);
    });
  }
}

/**
 * A WebSocket to the Engine.IO endpoint. Text frames arrive as strings, binary frames as Buffers.
 * `opened` resolves true once the upgrade succeeded, false if the connection ended first;
 * `rejection` resolves with `{ status, headers, body }` if the server refused the upgrade with an
 * HTTP response; `closed` resolves with `{ code, reason }` when the connection is gone.
 */
export class WsClient {
  constructor(base, query) {
    this.ws = new WebSocket(engineUrl(base.replace(/^http/, 'ws'), query));
    this.inbox = new Inbox();
    this.ws.on('message', (data, isBinary) => this.inbox.push(isBinary ? data : data.toString()));
    // Connection failures are observed through `opened` / `closed`.
    this.ws.on('error', () => {});
    this.opened = new Promise((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.inbox.end(`connection closed (${code})`);
        resolve({ code, reason: reason.toString() });
      });
    });
    this.rejection = new Promise((resolve) => {
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode, headers: res.headers, body });
          this.ws.terminate();
        });
      });
    });
  }

  /** Opens a WebSocket and waits for the upgrade to succeed. */
  static async connect(base, query) {
    const client = new WsClient(base, query);
    assert.equal(await withDeadline(client.opened, `websocket ${query}`), true, 'websocket opened');
    return client;
  }

  /** Opens a websocket-only session and reads its open packet (`client.openPacket`, `client.sid`). */
  static async handshake(base) {
    const client = await WsClient.connect(base, 'EIO=4&transport=websocket');
    const first = await client.next();
    assert.equal(typeof first, 'string');
    assert.ok(first.startsWith('0'), `first frame is an open packet: ${first}`);
    client.openPacket = JSON.parse(first.slice(1));
    client.sid = client.openPacket.sid;
    return client;
  }

  send(data) {
    this.ws.send(data);
  }

  /** The next frame received. */
  next(deadline) {
    return this.inbox.next(deadline);
  }

  /** Resolves with `{ code, reason }` once the connection is closed, within the deadline. */
  waitClosed(deadline) {
    return withDeadline(this.closed, 'websocket close', deadline);
  }

  /** Asserts that a fresh message is echoed back over this WebSocket. */
  async assertEchoes() {
    const message = uniqueMessage('echo');
    this.send(message);
    assert.equal(await this.next(), message);
  }

  /** Closes the connection (no-op if already closed) and waits until it is gone. */
  async close() {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close();
    await this.waitClosed();
  }
}

/**
 * Upgrades a polling session to WebSocket with raw packets: opens the WebSocket with the sid,
 * exchanges `2probe` / `3probe`, waits for the pending poll to be released, then sends `5`.
 * Returns the upgraded WebSocket.
 */
export async function upgradeToWebSocket(session) {
  const pendingPoll = session.get();
  const client = await WsClient.connect(
    session.base,
    `EIO=4&transport=websocket&sid=${encodeURIComponent(session.sid)}`,
  );
  client.send('2probe');
  assert.equal(await client.next(), '3probe');
  const released = await pendingPoll;
  assert.equal(released.status, 200);
  assert.equal(released.body, '6');
  client.send('5');
  return client;
}
