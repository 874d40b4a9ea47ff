// The msgpack parser in a mixed cluster: a Node and a roomcast probe, both with
// PARSER=msgpack, on one Redis stream with connection state recovery. What one server
// broadcasts reaches the other's clients encoded for their parser (binary inline), and a
// client dropped from one server recovers its missed events, offsets included, on the other.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import msgpackParser from 'socket.io-msgpack-parser';

import { startProxy } from '../lib/proxy.mjs';
import { startRedis } from '../lib/redis.mjs';
import { TARGET } from '../lib/server.mjs';
import {
  closeAll,
  connect,
  emitWithAck,
  fetchUntil,
  startNodes,
  stopNodes,
  uniqueTag,
  waitFor,
  waitPastConnectErrors,
  waitUntil,
} from './helpers.mjs';

const PARSER = { parser: msgpackParser };
const RECONNECT = { ...PARSER, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 };

describe('msgpack parser across a Node and a roomcast server', () => {
  let redis;
  let nodes;
  let proxy;
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(['node', TARGET], {
      ADAPTER: 'redis-streams',
      REDIS_URL: redis.url,
      REDIS_KEY: uniqueTag('key'),
      RECOVERY: '1',
      PARSER: 'msgpack',
    });
  });
  after(async () => {
    closeAll();
    await proxy?.close();
    await stopNodes(nodes ?? []);
    await redis?.stop();
  });

  test('broadcasts cross servers, and a dropped client recovers on the other server', async () => {
    const [onNode, onRoomcast] = nodes;
    const room = uniqueTag('room');
    proxy = await startProxy(onNode.port);
    const { socket, hello } = await connect(proxy.url, '/', ['websocket'], RECONNECT);
    await emitWithAck(socket, 'join', room);
    const got = [];
    socket.on('news', (tag, blob) => got.push([tag, Buffer.from(blob).toString()]));
    const { socket: fromNode } = await connect(onNode.url, '/', ['websocket'], PARSER);
    const { socket: fromRoomcast, hello: witness } = await connect(onRoomcast.url, '/', ['polling'], PARSER);
    await emitWithAck(fromRoomcast, 'join', room);
    const witnessed = [];
    fromRoomcast.on('news', (tag, blob) => witnessed.push([tag, Buffer.from(blob).toString()]));
    const say = (driver, tag) =>
      emitWithAck(driver, 'broadcast', { from: 'server', to: [room], event: 'news', args: [tag, Buffer.from(`${tag}!`)] });

    await say(fromNode, 'before');
    await waitUntil(() => got.length === 1 && witnessed.length === 1, 'the first broadcast on both servers');
    assert.deepEqual(witnessed, [['before', 'before!']]);

    const dropped = waitFor(socket, 'disconnect');
    proxy.cut();
    await dropped;
    // The Node server has let the socket go (and kept its session) before anything is missed.
    await fetchUntil(fromRoomcast, { in: [room] }, [witness.id]);
    await say(fromRoomcast, 'missed-1');
    await say(fromNode, 'missed-2');
    await waitUntil(() => witnessed.length === 3, 'the witness saw both missed events');
    const reconnected = waitPastConnectErrors(socket, 'hello');
    proxy.resume(onRoomcast.port);
    const [again] = await reconnected;
    assert.equal(again.recovered, true);
    assert.equal(again.id, hello.id);
    await say(fromNode, 'after');
    await waitUntil(() => got.length === 4, 'the event after recovery');
    assert.deepEqual(got, [
      ['before', 'before!'],
      ['missed-1', 'missed-1!'],
      ['missed-2', 'missed-2!'],
      ['after', 'after!'],
    ]);
  });
});
