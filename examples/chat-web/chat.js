// The chat page: one socket on the `/chat` namespace, made by the official client (`io`,
// from /socket.io/socket.io.min.js).

const $ = (id) => document.getElementById(id);

/** The rooms the server always lists, in the order the page shows them. */
const LISTED_ROOMS = ['general', 'tech', 'random'];
/** The server's rule for room names. */
const ROOM_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** How often the room and user lists are refreshed besides after each change. */
const REFRESH_MS = 3000;
/** After this long without a keystroke, the others are told the user stopped typing. */
const TYPING_IDLE_MS = 2000;
/** While the user keeps typing, `typing` is sent again this often, so that it does not fade. */
const TYPING_REPEAT_MS = 3000;
/** Someone else's typing indicator fades after this long without news. */
const TYPING_SHOWN_MS = 6000;
/** How long an acknowledgement may take. */
const ACK_TIMEOUT_MS = 5000;

let socket = null;
let room = 'general';
let refreshTimer = null;
const typers = new Map(); // username -> timer that hides them

// ---------------------------------------------------------------- connection

function connect(username) {
  socket = io('/chat', { auth: { username } });
  setStatus('connecting');

  socket.on('connect', () => {
    setStatus('online');
    $('login').hidden = true;
    $('app').hidden = false;
    $('leave').hidden = false;
    $('me').hidden = false;
    $('me').textContent = username;
    showBanner(null);
    localStorage.setItem('roomcast.username', username);
    // After a reconnection the server puts the socket back in the lobby: go back where we were.
    if (room !== 'general') socket.emit('switchRoom', room);
    else enterRoom('general');
    clearInterval(refreshTimer);
    refreshTimer = setInterval(refresh, REFRESH_MS);
  });

  socket.on('connect_error', (err) => {
    setStatus('offline');
    if (!socket.active) {
      // Refused by the server (not a network failure): back to the sign-in form.
      showLogin(err.message === 'username required' ? 'Please pick a name of 1 to 32 characters.' : err.message);
      socket = null;
    }
  });

  socket.on('disconnect', (reason) => {
    setStatus(socket?.active ? 'connecting' : 'offline');
    clearInterval(refreshTimer);
    clearTypers();
    if (reason === 'io server disconnect') {
      showBanner('You were disconnected by an admin.', true);
    } else if (reason !== 'io client disconnect') {
      showBanner('Connection lost, reconnecting…');
    }
  });

  socket.on('roomChanged', (name) => enterRoom(name));
  socket.on('message', (message) => {
    if (message.room !== room) return;
    hideTyper(message.username);
    addMessage(message);
  });
  socket.on('notification', (text) => {
    addLine('notice', text);
    refresh();
  });
  socket.on('announcement', (text) => addLine('announcement', text));
  socket.on('typing', ({ username: who }) => showTyper(who));
  socket.on('stopTyping', ({ username: who }) => hideTyper(who));
  socket.on('error', (text) => toast(text));
}

function enterRoom(name) {
  room = name;
  $('room-name').textContent = name;
  $('text').placeholder = `Message #${name}`;
  $('messages').replaceChildren();
  clearTypers();
  addLine('notice', `You are in #${name}`);
  refresh();
}

async function refresh() {
  if (!socket?.connected) return;
  try {
    const [rooms, users] = await Promise.all([
      socket.timeout(ACK_TIMEOUT_MS).emitWithAck('rooms'),
      socket.timeout(ACK_TIMEOUT_MS).emitWithAck('listUsers'),
    ]);
    renderRooms(rooms);
    renderUsers(users);
  } catch {
    // The next refresh tries again.
  }
}

// ---------------------------------------------------------------- rendering

function renderRooms(counts) {
  const others = Object.keys(counts).filter((name) => !LISTED_ROOMS.includes(name)).sort();
  const items = [...LISTED_ROOMS, ...others].map((name) => {
    const li = document.createElement('li');
    li.dataset.room = name;
    li.classList.toggle('current', name === room);
    const button = document.createElement('button');
    button.type = 'button';
    button.append(el('span', 'name', `#${name}`), el('span', 'count', String(counts[name] ?? 0)));
    button.addEventListener('click', () => switchRoom(name));
    li.append(button);
    return li;
  });
  $('rooms').replaceChildren(...items);
  const here = counts[room] ?? 0;
  $('room-count').textContent = `${here} ${here === 1 ? 'member' : 'members'}`;
}

function renderUsers(users) {
  const items = users.map(({ id, username }) => {
    const li = document.createElement('li');
    li.dataset.id = id;
    li.append(avatar(username), el('span', 'name', username));
    if (id === socket.id) li.append(el('span', 'you', '(you)'));
    return li;
  });
  $('users').replaceChildren(...items);
}

function addMessage({ id, username, text, ts }) {
  const li = el('li', 'message');
  li.classList.toggle('mine', id === socket?.id);
  const time = new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const meta = el('div', 'meta');
  meta.append(el('span', 'author', username), el('time', 'time', time));
  const body = el('div', 'body');
  body.append(meta, el('div', 'text', text));
  li.append(avatar(username), body);
  append(li);
}

function addLine(kind, text) {
  append(el('li', kind, text));
}

function append(li) {
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(li);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function avatar(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  const node = el('span', 'avatar', [...name][0] ?? '?');
  node.style.background = `hsl(${hash % 360} 55% 52%)`;
  return node;
}

// ---------------------------------------------------------------- typing

function showTyper(who) {
  clearTimeout(typers.get(who));
  typers.set(who, setTimeout(() => hideTyper(who), TYPING_SHOWN_MS));
  renderTypers();
}

function hideTyper(who) {
  if (!typers.has(who)) return;
  clearTimeout(typers.get(who));
  typers.delete(who);
  renderTypers();
}

function clearTypers() {
  for (const timer of typers.values()) clearTimeout(timer);
  typers.clear();
  renderTypers();
}

function renderTypers() {
  const names = [...typers.keys()];
  $('typing').textContent =
    names.length === 0 ? '' :
    names.length === 1 ? `${names[0]} is typing…` :
    names.length <= 3 ? `${names.join(', ')} are typing…` :
    'Several people are typing…';
}

let typingSentAt = 0;
let typingIdle = null;

function onKeystroke() {
  if (!socket?.connected) return;
  const now = Date.now();
  if (now - typingSentAt > TYPING_REPEAT_MS) {
    socket.emit('typing');
    typingSentAt = now;
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(typingIdle);
  if (typingSentAt === 0) return;
  typingSentAt = 0;
  socket?.emit('stopTyping');
}

// ---------------------------------------------------------------- actions

function switchRoom(name) {
  if (name === room) return;
  if (!ROOM_NAME.test(name)) {
    toast('Room names are 1 to 32 lowercase letters, digits or dashes, not starting with a dash.');
    return;
  }
  stopTyping();
  socket.emit('switchRoom', name);
}

let toastTimer = null;

function toast(text) {
  $('toast').textContent = text;
  $('toast').hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { $('toast').hidden = true; }, 4000);
}

function showBanner(text, rejoin = false) {
  $('banner').hidden = !text;
  $('banner-text').textContent = text ?? '';
  $('rejoin').hidden = !rejoin;
}

function showLogin(error) {
  $('app').hidden = true;
  $('leave').hidden = true;
  $('me').hidden = true;
  $('login').hidden = false;
  $('login-error').hidden = !error;
  $('login-error').textContent = error ?? '';
  $('username').focus();
}

function setStatus(state) {
  $('status').dataset.state = state;
  $('status-text').textContent = state;
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const username = $('username').value.trim();
  if (!username) return;
  $('login-error').hidden = true;
  room = 'general';
  connect(username);
});

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('text').value;
  if (!text.trim() || !socket?.connected) return;
  stopTyping();
  socket.emit('message', text);
  $('text').value = '';
});

$('text').addEventListener('input', onKeystroke);

$('new-room').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('new-room-name').value.trim().toLowerCase();
  if (!name) return;
  switchRoom(name);
  $('new-room-name').value = '';
});

$('rejoin').addEventListener('click', () => {
  room = 'general';
  socket?.connect();
});

$('leave').addEventListener('click', () => {
  socket?.disconnect();
  socket = null;
  clearInterval(refreshTimer);
  setStatus('offline');
  showLogin(null);
});

$('username').value = localStorage.getItem('roomcast.username') ?? '';
