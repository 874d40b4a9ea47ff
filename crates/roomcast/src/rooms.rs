//! Room names: validated once, then shared cheaply.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use roomcast_engineio::Sid;

/// The longest room name accepted, in bytes.
pub const MAX_ROOM_LEN: usize = 1024;

/// A room name: non-empty, at most [`MAX_ROOM_LEN`] bytes, no control characters. Cloning
/// is a reference-count increment.
///
/// ```
/// use roomcast::Room;
///
/// let room = Room::new("order:123").unwrap();
/// assert_eq!(room.as_str(), "order:123");
/// assert!(Room::new("").is_err());
/// assert!(Room::new("bad\nname").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Room(Arc<str>);

/// Why a room name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    /// The empty string names no room.
    #[error("a room name cannot be empty")]
    Empty,
    /// Longer than [`MAX_ROOM_LEN`] bytes.
    #[error("room name of {0} bytes is longer than {MAX_ROOM_LEN}")]
    TooLong(usize),
    /// Contains a control character (such as a newline).
    #[error("room name {0:?} contains a control character")]
    ControlCharacter(String),
}

impl Room {
    /// Validates a room name.
    pub fn new(name: impl AsRef<str> + Into<Arc<str>>) -> Result<Room, RoomError> {
        let text = name.as_ref();
        if text.is_empty() {
            return Err(RoomError::Empty);
        }
        if text.len() > MAX_ROOM_LEN {
            return Err(RoomError::TooLong(text.len()));
        }
        if text.chars().any(char::is_control) {
            return Err(RoomError::ControlCharacter(text.chars().take(64).collect()));
        }
        Ok(Room(name.into()))
    }

    /// The room named after a socket id (every socket is in its own).
    pub fn of_socket(id: Sid) -> Room {
        Room(Arc::from(id.as_str()))
    }

    /// A room named by another server of a cluster: any name Node allows (the empty string,
    /// control characters, any length), taken as it is. Names from users and clients go
    /// through [`Room::new`].
    pub fn from_peer(name: impl Into<Arc<str>>) -> Room {
        Room(name.into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Room {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Room {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for Room {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Validates the name, as [`Room::new`] does.
impl<'de> serde::Deserialize<'de> for Room {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Room, D::Error> {
        let name = <String as serde::Deserialize>::deserialize(deserializer)?;
        Room::new(name).map_err(serde::de::Error::custom)
    }
}

/// Reads the room names of another server: strings as they are, numbers (Node allows numeric
/// rooms) as their decimal text; see [`Room::from_peer`].
pub(crate) fn peer_rooms<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Room>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Name {
        Text(String),
        Number(serde_json::Number),
    }
    let names = <Vec<Name> as serde::Deserialize>::deserialize(deserializer)?;
    Ok(names
        .into_iter()
        .map(|name| match name {
            Name::Text(text) => Room::from_peer(text),
            Name::Number(number) => Room::from_peer(number.to_string()),
        })
        .collect())
}

/// One or several room names: `&str`, `String`, [`Room`], a socket id, or a list of them.
///
/// ```
/// use roomcast::{IntoRooms, Room};
///
/// assert_eq!("a".into_rooms().unwrap().len(), 1);
/// assert_eq!(["a", "b"].into_rooms().unwrap().len(), 2);
/// assert_eq!(vec![String::from("a")].into_rooms().unwrap()[0], Room::new("a").unwrap());
/// assert!(vec!["ok", ""].into_rooms().is_err());
/// ```
pub trait IntoRooms {
    /// The validated rooms.
    fn into_rooms(self) -> Result<Vec<Room>, RoomError>;
}

impl IntoRooms for Room {
    fn into_rooms(self) -> Result<Vec<Room>, RoomError> {
        Ok(vec![self])
    }
}

impl IntoRooms for &Room {
    fn into_rooms(self) -> Result<Vec<Room>, RoomError> {
        Ok(vec![self.clone()])
    }
}

impl IntoRooms for Sid {
    fn into_rooms(self) -> Result<Vec<Room>, RoomError> {
        Ok(vec![Room::of_socket(self)])
    }
}

impl IntoRooms for &str {
    fn into_rooms(self) -> Result<Vec<Room>, RoomError> {
        Ok(vec![Room::new(self)?])
    }
}

impl IntoRooms for String {
    fn into_rooms(self) -> Result<Vec<Room>, RoomError> {
        Ok(vec![Room::new(self)?])
    }
}

impl IntoRooms for &String {
    fn into_rooms(self) -> Result<Vec<Room>, RoomError> {
        self.as_str().into_rooms()
    }
}

impl<T: IntoRooms> IntoRooms for Vec<T> {
    fn into_rooms(self) -> Result<Vec<Room>, RoomError> {
        let mut rooms = Vec::with_capacity(self.len());
        for item in self {
            rooms.extend(item.into_rooms()?);
        }
        Ok(rooms)
    }
}

impl<T: IntoRooms, const N: usize> IntoRooms for [T; N] {
    fn into_rooms(self) -> Result<Vec<Room>, RoomError> {
        Vec::from(self).into_rooms()
    }
}

impl<T: IntoRooms + Clone> IntoRooms for &[T] {
    fn into_rooms(self) -> Result<Vec<Room>, RoomError> {
        self.to_vec().into_rooms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_names() {
        let long = "x".repeat(MAX_ROOM_LEN + 1);
        let cases: &[(&str, Option<RoomError>)] = &[
            ("general", None),
            ("order:123", None),
            ("日本語", None),
            ("with space", None),
            ("", Some(RoomError::Empty)),
            (&long, Some(RoomError::TooLong(MAX_ROOM_LEN + 1))),
            (
                "a\u{0}b",
                Some(RoomError::ControlCharacter("a\u{0}b".into())),
            ),
            (
                "tab\there",
                Some(RoomError::ControlCharacter("tab\there".into())),
            ),
        ];
        for (name, error) in cases {
            assert_eq!(Room::new(*name).err(), *error, "{name:?}");
        }
    }

    #[test]
    fn socket_rooms_are_their_id() {
        let id = Sid::new();
        assert_eq!(Room::of_socket(id).as_str(), id.as_str());
    }
}
