// roomcast-metrics on the probe (METRICS=1): the Prometheus text at /metrics, scraped and parsed
// before and after a known workload driven by socket.io-client, each counter checked against
// what the clients saw on the wire. Node has no such metrics: roomcast only.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { TARGET, startServer } from '../lib/server.mjs';
import { closeAll, emitWithAck, manager, waitFor, waitUntil } from './helpers.mjs';

/** Parses the text exposition format into `{ 'name{labels}': value }`. */
function parse(text) {
  assert.ok(text.endsWith('# EOF\n'), 'OpenMetrics text ends with # EOF');
  const samples = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = line.match(/^([a-z_]+(?:\{[^}]*\})?) (\S+)$/);
    assert.ok(match, `a sample line: ${line}`);
    samples[match[1]] = Number(match[2]);
  }
  return samples;
}

/** Counts what a client's engine sends and receives: Socket.IO packets by type, and bytes. */
function tally(engine, counts) {
  engine.on('packetCreate', (packet) => {
    if (packet.type !== 'message' || typeof packet.data !== 'string') return;
    counts.bytesIn += Buffer.byteLength(packet.data);
    if (packet.data[0] === '2') counts.eventsIn += 1;
  });
  engine.on('packet', (packet) => {
    if (packet.type !== 'message' || typeof packet.data !== 'string') return;
    if (packet.data[0] === '2') counts.eventsOut += 1;
    if (packet.data[0] === '3') counts.acksOut += 1;
    if ('23'.includes(packet.data[0])) counts.bytesOut += Buffer.byteLength(packet.data);
  });
}

describe('metrics', { skip: TARGET === 'node' && 'Node has no metrics' }, () => {
  let server;
  before(async () => {
    server = await startServer('probe', { METRICS: '1' });
  });
  after(() => server?.stop());
  afterEach(closeAll);

  const scrape = async () => {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^application\/openmetrics-text/);
    return parse(await response.text());
  };

  it('counts connections, sockets, rooms, events, bytes, broadcasts, acks and refusals', async () => {
    const before = await scrape();
    const counts = { bytesIn: 0, eventsIn: 0, eventsOut: 0, acksOut: 0, bytesOut: 0 };
    // One manager per client, tallied from its first packet.
    const clients = [];
    for (const [transports, nsp] of [[['websocket'], '/'], [['polling'], '/'], [['polling', 'websocket'], '/chat']]) {
      const m = manager(server.url, transports, { autoConnect: false });
      const socket = m.socket(nsp);
      const hello = waitFor(socket, 'hello');
      socket.connect(); // opens the engine at once: tallied before its first packet
      tally(m.engine, counts);
      await hello;
      clients.push(socket);
    }
    const [a, b, c] = clients;
    if (c.io.engine.transport.name !== 'websocket') await waitFor(c.io.engine, 'upgrade');

    await emitWithAck(a, 'join', 'metrics-room');
    await emitWithAck(b, 'join', 'metrics-room');
    for (let i = 0; i < 3; i += 1) await emitWithAck(a, 'echo', 'x'.repeat(i * 100));
    const news = [waitFor(a, 'news'), waitFor(b, 'news')];
    await emitWithAck(a, 'broadcast', { from: 'server', to: 'metrics-room', event: 'news', args: [1] });
    await Promise.all(news);
    // A client that never answers: the server's wait for its ack times out.
    c.on('ping-me', () => {});
    const timedOut = await emitWithAck(c, 'requestAck', { event: 'ping-me', args: [], timeoutMs: 50 });
    assert.ok(timedOut.err, JSON.stringify(timedOut));

    for (const query of ['EIO=4&transport=polling&sid=nope', 'EIO=4&transport=carrier-pigeon', 'EIO=9&transport=polling']) {
      await (await fetch(`${server.url}/socket.io/?${query}`)).arrayBuffer();
    }

    const after = await scrape();
    const delta = (name) => (after[name] ?? 0) - (before[name] ?? 0);
    assert.equal(delta('roomcast_connections_opened_total{transport="websocket"}'), 1);
    assert.equal(delta('roomcast_connections_opened_total{transport="polling"}'), 2);
    assert.equal(delta('roomcast_upgrades_total'), 1);
    assert.equal(after['roomcast_connections{transport="websocket"}'], 2);
    assert.equal(after['roomcast_connections{transport="polling"}'], 1);
    assert.equal(after['roomcast_sockets{namespace="/"}'], 2);
    assert.equal(after['roomcast_sockets{namespace="/chat"}'], 1);
    assert.equal(after['roomcast_rooms{namespace="/"}'], 1);
    assert.equal(delta('roomcast_http_errors_total{code="0"}'), 1);
    assert.equal(delta('roomcast_http_errors_total{code="1"}'), 1);
    assert.equal(delta('roomcast_http_errors_total{code="5"}'), 1);
    assert.equal(delta('roomcast_events_received_total'), counts.eventsIn);
    assert.equal(delta('roomcast_bytes_received_total'), counts.bytesIn);
    assert.equal(delta('roomcast_broadcasts_total'), 1);
    assert.equal(delta('roomcast_ack_timeouts_total'), 1);
    // What went out: every event and ack the clients got (the timed-out request's ping-me too).
    assert.equal(delta('roomcast_events_sent_total'), counts.eventsOut);
    assert.equal(delta('roomcast_acks_sent_total'), counts.acksOut);
    assert.equal(delta('roomcast_bytes_sent_total'), counts.bytesOut);
    assert.ok(counts.eventsIn >= 7 && counts.eventsOut >= 6, JSON.stringify(counts));

    for (const socket of clients) socket.io.engine.close();
    const settled = await waitUntil(async () => {
      const now = await scrape();
      return now['roomcast_sockets{namespace="/"}'] === 0 && now['roomcast_connections{transport="websocket"}'] === 0 && now;
    }, 'the gauges back to zero');
    assert.equal(settled['roomcast_sockets{namespace="/chat"}'], 0);
    assert.equal(settled['roomcast_rooms{namespace="/"}'], 0);
    assert.equal(settled['roomcast_connections{transport="polling"}'], 0);
  });

  it('keeps dynamic namespace names to a bounded set of label values', async () => {
    const m = manager(server.url, ['websocket']);
    const sockets = [];
    for (let i = 0; i < 80; i += 1) {
      const socket = m.socket(`/org-metrics-${i}`);
      sockets.push(waitFor(socket, 'hello'));
    }
    await Promise.all(sockets);
    const samples = await scrape();
    const labels = Object.keys(samples)
      .filter((name) => name.startsWith('roomcast_sockets{'))
      .map((name) => name.match(/namespace="([^"]*)"/)[1]);
    assert.ok(labels.length <= 65, `${labels.length} label values`);
    assert.ok(labels.includes('other'));
    const total = Object.entries(samples)
      .filter(([name]) => name.startsWith('roomcast_sockets{namespace="/org-metrics-') || name === 'roomcast_sockets{namespace="other"}')
      .reduce((sum, [, value]) => sum + value, 0);
    assert.equal(total, 80);
  });
});
