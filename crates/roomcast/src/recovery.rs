//! What connection state recovery keeps in one process (Node's `SessionAwareAdapter`): every
//! recoverable broadcast with its offset, for as long as a session may come back, within
//! bounds; and the sessions of sockets that disconnected.
//!
//! Offsets are this process's broadcast count, in decimal. A recovery asks for the packets after
//! the offset the client received last: when that offset is no longer kept (expired, or pushed
//! out by the bounds), the socket starts afresh rather than replaying a partial history.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::adapter::{
    reaches, BroadcastOptions, BroadcastPacket, RecoveryOptions, RestoredSession, Session,
};
use crate::error::Error;

/// The kept packets and sessions of one namespace.
pub(crate) struct SessionStore {
    options: RecoveryOptions,
    state: Mutex<State>,
}

/// How often expired sessions are looked for.
const SWEEP: Duration = Duration::from_secs(10);

struct State {
    next_offset: u64,
    packets: VecDeque<Kept>,
    kept_bytes: usize,
    sessions: HashMap<String, (Session, Instant)>,
    last_sweep: Instant,
}

struct Kept {
    offset: u64,
    at: Instant,
    /// Only the targeting is kept: the flags do not matter to a replay.
    rooms: BroadcastOptions,
    packet: BroadcastPacket,
    bytes: usize,
}

impl SessionStore {
    pub(crate) fn new(options: RecoveryOptions) -> SessionStore {
        SessionStore {
            options,
            state: Mutex::new(State {
                next_offset: 0,
                packets: VecDeque::new(),
                kept_bytes: 0,
                sessions: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    /// Gives a recoverable packet its offset and keeps it, then hands it to `deliver`, under
    /// one lock: every socket receives the packets of this namespace in offset order, so the
    /// last offset a client saw tells exactly what it missed.
    pub(crate) fn broadcast(
        &self,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
        deliver: impl FnOnce(&BroadcastPacket),
    ) -> Result<(), Error> {
        if !packet.recoverable(opts.flags.volatile) {
            deliver(packet);
            return Ok(());
        }
        let mut state = self.state.lock();
        let offset = state.next_offset;
        let packet = packet.with_offset(&offset.to_string())?;
        state.next_offset += 1;
        let bytes = packet.frames().iter().map(|frame| frame.len()).sum();
        state.kept_bytes += bytes;
        state.packets.push_back(Kept {
            offset,
            at: Instant::now(),
            rooms: BroadcastOptions {
                rooms: opts.rooms.clone(),
                except: opts.except.clone(),
                ..BroadcastOptions::default()
            },
            packet: packet.clone(),
            bytes,
        });
        self.trim(&mut state);
        deliver(&packet);
        Ok(())
    }

    /// Drops the packets past the bounds: too old to be asked for, or over the count or bytes.
    fn trim(&self, state: &mut State) {
        let now = Instant::now();
        while let Some(front) = state.packets.front() {
            let expired = now.duration_since(front.at) > self.options.max_disconnection_duration;
            let over = state.packets.len() > self.options.max_kept_packets
                || state.kept_bytes > self.options.max_kept_bytes;
            if !expired && !over {
                break;
            }
            state.kept_bytes -= front.bytes;
            state.packets.pop_front();
        }
        if now.duration_since(state.last_sweep) > SWEEP {
            state.last_sweep = now;
            let max = self.options.max_disconnection_duration;
            state
                .sessions
                .retain(|_, (_, disconnected)| now.duration_since(*disconnected) <= max);
        }
    }

    /// Keeps a disconnected socket's session.
    pub(crate) fn persist(&self, session: Session) {
        let mut state = self.state.lock();
        state
            .sessions
            .insert(session.pid.clone(), (session, Instant::now()));
        self.trim(&mut state);
    }

    /// Takes the session `pid` back, with the packets after `offset` that reached it; `None`
    /// when the session is unknown or expired, or `offset` is not a kept offset.
    pub(crate) fn restore(&self, pid: &str, offset: &str) -> Option<RestoredSession> {
        let mut state = self.state.lock();
        let (session, disconnected) = state.sessions.remove(pid)?;
        if disconnected.elapsed() > self.options.max_disconnection_duration {
            return None;
        }
        let offset: u64 = offset.parse().ok()?;
        let index = state
            .packets
            .binary_search_by_key(&offset, |kept| kept.offset)
            .ok()?;
        let missed = state
            .packets
            .iter()
            .skip(index + 1)
            .filter(|kept| reaches(&session.rooms, &kept.rooms))
            .map(|kept| kept.packet.clone())
            .collect();
        Some(RestoredSession { session, missed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rooms::Room;
    use crate::value::Value;

    fn packet(n: i64) -> BroadcastPacket {
        BroadcastPacket::new("/", "n", vec![Value::from(n)], None).unwrap()
    }

    fn to(room: &str) -> BroadcastOptions {
        BroadcastOptions::to(vec![Room::new(room).unwrap()])
    }

    fn session(pid: &str, rooms: &[&str]) -> Session {
        Session {
            sid: format!("sid-{pid}"),
            pid: pid.to_owned(),
            rooms: rooms.iter().map(|r| Room::new(*r).unwrap()).collect(),
            data: Value::Null,
        }
    }

    fn texts(restored: &RestoredSession) -> Vec<String> {
        restored
            .missed
            .iter()
            .map(|p| String::from_utf8(p.frames()[0].as_bytes().to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn a_session_gets_back_what_reached_its_rooms_after_its_offset() {
        let store = SessionStore::new(RecoveryOptions::default());
        let mut delivered = Vec::new();
        for (n, opts) in [
            (0, to("a")),
            (1, to("b")),
            (2, to("a")),
            (3, BroadcastOptions::default()),
        ] {
            store
                .broadcast(&packet(n), &opts, |p| delivered.push(p.clone()))
                .unwrap();
        }
        assert_eq!(delivered[1].frames()[0].as_bytes(), br#"42["n",1,"1"]"#);
        store.persist(session("p", &["a"]));
        let restored = store.restore("p", "0").expect("restored");
        assert_eq!(texts(&restored), [r#"42["n",2,"2"]"#, r#"42["n",3,"3"]"#]);
        // Given back once; an unknown pid or offset is nothing.
        assert!(store.restore("p", "0").is_none());
        store.persist(session("q", &["a"]));
        assert!(store.restore("q", "99").is_none());
        store.persist(session("r", &["a"]));
        assert!(store.restore("r", "not-a-number").is_none());
        assert!(store.restore("unknown", "0").is_none());
    }

    #[test]
    fn volatile_and_acknowledged_packets_get_no_offset() {
        let store = SessionStore::new(RecoveryOptions::default());
        let mut opts = BroadcastOptions::default();
        opts.flags.volatile = true;
        let mut seen = Vec::new();
        store
            .broadcast(&packet(1), &opts, |p| seen.push(p.clone()))
            .unwrap();
        let acked = BroadcastPacket::new("/", "q", vec![], Some(4)).unwrap();
        store
            .broadcast(&acked, &BroadcastOptions::default(), |p| {
                seen.push(p.clone())
            })
            .unwrap();
        assert_eq!(seen[0].frames()[0].as_bytes(), br#"42["n",1]"#);
        assert_eq!(seen[1].frames()[0].as_bytes(), br#"424["q"]"#);
    }

    #[test]
    fn packets_past_the_bounds_are_dropped_and_their_offsets_start_afresh() {
        let store = SessionStore::new(RecoveryOptions {
            max_kept_packets: 3,
            ..RecoveryOptions::default()
        });
        for n in 0..10 {
            store
                .broadcast(&packet(n), &BroadcastOptions::default(), |_| {})
                .unwrap();
        }
        store.persist(session("old", &[]));
        assert!(
            store.restore("old", "2").is_none(),
            "offset 2 is no longer kept"
        );
        store.persist(session("new", &[]));
        assert_eq!(store.restore("new", "7").expect("kept").missed.len(), 2);
    }

    #[test]
    fn an_expired_session_is_not_restored() {
        let store = SessionStore::new(RecoveryOptions {
            max_disconnection_duration: Duration::ZERO,
            ..RecoveryOptions::default()
        });
        store
            .broadcast(&packet(0), &BroadcastOptions::default(), |_| {})
            .unwrap();
        store.persist(session("p", &[]));
        std::thread::sleep(Duration::from_millis(5));
        assert!(store.restore("p", "0").is_none());
    }
}
