//! What the lists show: members per room, the users of a room, and the admin page's numbers,
//! shaped from what `fetch_sockets` says of each socket (so they hold across processes).

use std::collections::BTreeMap;

use roomcast::{RemoteSocket, Room};
use serde::Serialize;

use crate::input::RoomName;
use crate::member::Member;

/// Members per room: the listed rooms always (0 when empty), and every other room that has
/// members. A socket's own id-room is not a chat room and is left out.
pub(crate) fn room_counts<'a, I>(sockets: I) -> BTreeMap<String, usize>
where
    I: IntoIterator<Item = (&'a str, &'a [Room])>,
{
    let mut counts: BTreeMap<String, usize> = RoomName::LISTED
        .iter()
        .map(|room| (room.to_string(), 0))
        .collect();
    for (id, rooms) in sockets {
        for room in rooms.iter().filter(|room| room.as_str() != id) {
            *counts.entry(room.as_str().to_owned()).or_default() += 1;
        }
    }
    counts
}

/// [`room_counts`] of a `fetch_sockets` answer.
pub(crate) fn room_counts_of(sockets: &[RemoteSocket]) -> BTreeMap<String, usize> {
    room_counts(sockets.iter().map(|socket| (socket.id(), socket.rooms())))
}

/// One line of the user list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UserEntry {
    /// The `/chat` socket id.
    pub id: String,
    /// Its username.
    pub username: String,
}

/// The users among `sockets` (id and member data), sorted by name, then id.
pub(crate) fn user_list<'a, I>(sockets: I) -> Vec<UserEntry>
where
    I: IntoIterator<Item = (&'a str, Option<Member>)>,
{
    let mut users: Vec<UserEntry> = sockets
        .into_iter()
        .filter_map(|(id, member)| {
            Some(UserEntry {
                id: id.to_owned(),
                username: member?.username.into(),
            })
        })
        .collect();
    users.sort_by(|a, b| (&a.username, &a.id).cmp(&(&b.username, &b.id)));
    users
}

/// [`user_list`] of a `fetch_sockets` answer.
pub(crate) fn user_list_of(sockets: &[RemoteSocket]) -> Vec<UserEntry> {
    user_list(
        sockets
            .iter()
            .map(|socket| (socket.id(), Member::of_remote(socket))),
    )
}

/// The admin page's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Stats {
    /// Sockets connected to `/chat`.
    pub chat_users: usize,
    /// Sockets connected to `/admin`.
    pub admin_users: usize,
    /// Members per `/chat` room, as [`room_counts`].
    pub rooms: BTreeMap<String, usize>,
}

impl Stats {
    /// The stats of the `/chat` sockets and the number of `/admin` ones.
    pub(crate) fn new(chat: &[RemoteSocket], admin_users: usize) -> Stats {
        Stats {
            chat_users: chat.len(),
            admin_users,
            rooms: room_counts_of(chat),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Username;

    fn rooms(names: &[&str]) -> Vec<Room> {
        names.iter().map(|name| Room::new(*name).unwrap()).collect()
    }

    #[test]
    fn listed_rooms_are_always_there() {
        let counts = room_counts(std::iter::empty());
        assert_eq!(
            counts.into_iter().collect::<Vec<_>>(),
            [
                ("general".into(), 0),
                ("random".into(), 0),
                ("tech".into(), 0)
            ]
        );
    }

    #[test]
    fn counts_members_and_leaves_out_id_rooms() {
        let a = rooms(&["AAAAAAAAAAAAAAAAAAAA", "general"]);
        let b = rooms(&["BBBBBBBBBBBBBBBBBBBB", "general"]);
        let c = rooms(&["CCCCCCCCCCCCCCCCCCCC", "rust-lang"]);
        // A socket that has only its id-room (between connecting and joining the lobby).
        let d = rooms(&["DDDDDDDDDDDDDDDDDDDD"]);
        let counts = room_counts([
            ("AAAAAAAAAAAAAAAAAAAA", &a[..]),
            ("BBBBBBBBBBBBBBBBBBBB", &b[..]),
            ("CCCCCCCCCCCCCCCCCCCC", &c[..]),
            ("DDDDDDDDDDDDDDDDDDDD", &d[..]),
        ]);
        let expected: BTreeMap<String, usize> =
            [("general", 2), ("random", 0), ("rust-lang", 1), ("tech", 0)]
                .into_iter()
                .map(|(room, n)| (room.to_owned(), n))
                .collect();
        assert_eq!(counts, expected);
    }

    #[test]
    fn user_list_is_sorted_and_skips_sockets_without_member_data() {
        let member = |name: &str| Some(Member::new(Username::parse(name).unwrap()));
        let users = user_list([
            ("id-3", member("carol")),
            ("id-1", member("alice")),
            ("id-9", None),
            ("id-2", member("alice")),
        ]);
        let names: Vec<(&str, &str)> = users
            .iter()
            .map(|user| (user.id.as_str(), user.username.as_str()))
            .collect();
        assert_eq!(
            names,
            [("id-1", "alice"), ("id-2", "alice"), ("id-3", "carol")]
        );
    }

    #[test]
    fn stats_serialize_with_the_page_s_field_names() {
        let stats = Stats {
            chat_users: 2,
            admin_users: 1,
            rooms: room_counts(std::iter::empty()),
        };
        assert_eq!(
            serde_json::to_value(&stats).unwrap(),
            serde_json::json!({
                "chatUsers": 2,
                "adminUsers": 1,
                "rooms": { "general": 0, "random": 0, "tech": 0 }
            })
        );
    }
}
