//! The members of one room in the in-memory adapter, each with the handle a broadcast delivers
//! through. Most rooms have one member (every socket's own room, a user's room), so one is
//! held inline and only a second member brings a hash map.

use std::collections::HashMap;
use std::sync::Arc;

use roomcast_engineio::{IdHasher, Sid};

use crate::adapter::LocalSocket;
use crate::spare;

/// A room's members.
pub(crate) enum Members {
    One(Sid, Arc<dyn LocalSocket>),
    Many(HashMap<Sid, Arc<dyn LocalSocket>, IdHasher>),
}

impl Default for Members {
    fn default() -> Members {
        Members::Many(HashMap::default())
    }
}

impl Members {
    /// Adds a member (or replaces its handle).
    pub(crate) fn insert(&mut self, id: Sid, socket: Arc<dyn LocalSocket>) {
        *self = match std::mem::take(self) {
            Members::One(only, handle) if only != id => {
                let mut map = HashMap::with_capacity_and_hasher(2, IdHasher::default());
                map.insert(only, handle);
                map.insert(id, socket);
                Members::Many(map)
            }
            Members::Many(mut map) if !map.is_empty() => {
                map.insert(id, socket);
                Members::Many(map)
            }
            Members::One(..) | Members::Many(_) => Members::One(id, socket),
        };
    }

    /// Removes a member; returns whether it was one. A room back to one member lets go of
    /// its map.
    pub(crate) fn remove(&mut self, id: &Sid) -> bool {
        match self {
            Members::One(only, _) if only == id => {
                *self = Members::default();
                true
            }
            Members::One(..) => false,
            Members::Many(map) => {
                let removed = map.remove(id).is_some();
                spare::give_back(map);
                if map.len() == 1 {
                    let only = map.drain().next();
                    if let Some((only, handle)) = only {
                        *self = Members::One(only, handle);
                    }
                }
                removed
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Members::One(..) => 1,
            Members::Many(map) => map.len(),
        }
    }

    /// The members' ids.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &Sid> {
        self.iter().map(|(id, _)| id)
    }

    /// The members and their handles.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Sid, &Arc<dyn LocalSocket>)> {
        let (one, many) = match self {
            Members::One(id, socket) => (Some((id, socket)), None),
            Members::Many(map) => (None, Some(map.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::AckSink;
    use crate::handshake::Handshake;
    use crate::value::Value;
    use roomcast_engineio::Frame;

    struct Member(Sid);

    impl LocalSocket for Member {
        fn id(&self) -> Sid {
            self.0
        }
        fn deliver(&self, _frames: &[Frame], _volatile: bool) {}
        fn expect_ack(&self, _ack_id: u64, _sink: AckSink) {}
        fn disconnect(&self, _close: bool) {}
        fn describe(&self) -> (Handshake, Value) {
            (Handshake::default(), Value::Null)
        }
    }

    fn member(id: Sid) -> Arc<dyn LocalSocket> {
        Arc::new(Member(id))
    }

    fn ids(members: &Members) -> Vec<Sid> {
        let mut ids: Vec<Sid> = members
            .iter()
            .map(|(id, socket)| {
                assert_eq!(*id, socket.id());
                *id
            })
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn one_member_inline_more_in_a_map_and_back() {
        let (a, b, c) = (Sid::new(), Sid::new(), Sid::new());
        let mut members = Members::default();
        assert!(members.is_empty());
        members.insert(a, member(a));
        members.insert(a, member(a));
        assert!(matches!(members, Members::One(..)));
        assert_eq!(ids(&members), [a]);
        members.insert(b, member(b));
        members.insert(c, member(c));
        assert!(matches!(members, Members::Many(_)));
        assert_eq!(members.len(), 3);
        let mut all = vec![a, b, c];
        all.sort();
        assert_eq!(ids(&members), all);
        assert!(members.remove(&b));
        assert!(!members.remove(&b));
        assert_eq!(members.len(), 2);
        assert!(members.remove(&a));
        assert!(matches!(members, Members::One(..)));
        assert_eq!(members.keys().copied().collect::<Vec<_>>(), [c]);
        assert!(!members.remove(&a));
        assert!(members.remove(&c));
        assert!(members.is_empty());
        assert_eq!(members.iter().count(), 0);
    }
}
