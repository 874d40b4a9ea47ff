// The admin page: one socket on the `/admin` namespace, authorized by the admin token. The
// token may come in the address (`/admin#token=…`), which never reaches the server's logs.

const $ = (id) => document.getElementById(id);

/** How often the stats are refreshed. */
const REFRESH_MS = 2000;
/** How long an acknowledgement may take. */
const ACK_TIMEOUT_MS = 5000;

let socket = null;
let refreshTimer = null;

function connect(token) {
  socket?.disconnect();
  socket = io('/admin', { auth: { token } });
  setStatus('connecting');

  socket.on('connect', () => {
    setStatus('online');
    sessionStorage.setItem('roomcast.adminToken', token);
    $('login').hidden = true;
    $('dashboard').hidden = false;
    log('Connected');
    refresh();
    clearInterval(refreshTimer);
    refreshTimer = setInterval(refresh, REFRESH_MS);
  });

  socket.on('connect_error', (err) => {
    setStatus('offline');
    if (!socket.active) {
      sessionStorage.removeItem('roomcast.adminToken');
      $('dashboard').hidden = true;
      $('login').hidden = false;
      $('login-error').hidden = false;
      $('login-error').textContent =
        err.message === 'unauthorized' ? 'Wrong token (unauthorized).' : err.message;
    }
  });

  socket.on('disconnect', (reason) => {
    setStatus(socket.active ? 'connecting' : 'offline');
    clearInterval(refreshTimer);
    log(`Disconnected (${reason})`, true);
  });

  socket.on('error', (text) => log(text, true));
}

async function refresh() {
  if (!socket?.connected) return;
  try {
    render(await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('getStats'));
  } catch {
    $('updated').textContent = 'stats unavailable, retrying…';
  }
}

function render({ chatUsers, adminUsers, rooms }) {
  $('chat-users').textContent = chatUsers;
  $('admin-users').textContent = adminUsers;
  const entries = Object.entries(rooms).sort(([a, m], [b, n]) => n - m || a.localeCompare(b));
  $('active-rooms').textContent = entries.filter(([, members]) => members > 0).length;
  const most = Math.max(1, ...entries.map(([, members]) => members));
  $('room-rows').replaceChildren(...entries.map(([name, members]) => row(name, members, most)));
  $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function row(name, members, most) {
  const tr = document.createElement('tr');
  tr.dataset.room = name;
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('span');
  fill.style.width = `${(100 * members) / most}%`;
  bar.append(fill);
  const kick = document.createElement('button');
  kick.type = 'button';
  kick.className = 'danger';
  kick.textContent = 'Kick all';
  kick.disabled = members === 0;
  kick.addEventListener('click', () => {
    socket.emit('kickAll', name);
    log(`Kicked everyone from #${name}`);
    setTimeout(refresh, 200);
  });
  tr.append(cell(`#${name}`), cell(String(members), 'members'), cell(bar, 'bar-cell'), cell(kick));
  return tr;
}

function cell(content, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.append(content);
  return td;
}

function log(text, failed = false) {
  const li = document.createElement('li');
  li.classList.toggle('failed', failed);
  const when = document.createElement('span');
  when.className = 'when';
  when.textContent = new Date().toLocaleTimeString();
  li.append(when, text);
  $('log').prepend(li);
  while ($('log').children.length > 50) $('log').lastChild.remove();
}

function setStatus(state) {
  $('status').dataset.state = state;
  $('status-text').textContent = state;
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  $('login-error').hidden = true;
  connect($('token').value);
});

$('announce-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('announce-text').value;
  if (!text.trim() || !socket?.connected) return;
  socket.emit('announce', text);
  log(`Announced: ${text}`);
  $('announce-text').value = '';
});

// A token in the address (as the server prints it) or from earlier in this tab connects at once.
const fromAddress = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromAddress) history.replaceState(null, '', location.pathname);
const saved = fromAddress ?? sessionStorage.getItem('roomcast.adminToken');
if (saved) {
  $('token').value = saved;
  connect(saved);
}
