// Helpers every Socket.IO-level end-to-end suite shares (the chat demo's and the probe's).

/** Upper bound for every single wait in these tests. */
export const DEADLINE_MS = 3000;

/** Resolves after `ms` milliseconds. */
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` (sync or async) until it returns a truthy value; rejects after `ms`. `what` names
 * the wait in the error: a string, or a function called then (to tell what was seen last).
 */
export async function waitUntil(check, what, ms = DEADLINE_MS) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await delay(10);
  }
}

/** Emits `event` and resolves with the first acknowledgement argument (bounded wait). */
export function emitWithAck(socket, event, ...args) {
  return socket.timeout(DEADLINE_MS).emitWithAck(event, ...args);
}

let counter = 0;
/** A label no other test uses (`<prefix>-<pid>-<n>`): valid as a room, user or message tag. */
export function uniqueTag(prefix = 't') {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
