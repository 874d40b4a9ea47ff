//! What the chat accepts from clients: usernames, room names and message texts, each checked
//! once at the edge and then carried as its own type.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// Input the chat refuses. Its text is what the client is told (`connect_error` for a
/// username, the `error` event for the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InputError {
    /// No usable username in the handshake.
    #[error("username required")]
    Username,
    /// A room name outside [`RoomName`]'s rules.
    #[error("Invalid room name")]
    RoomName,
    /// A message or announcement of the wrong length.
    #[error("Message must be 1 to {MAX_TEXT_CHARS} characters")]
    TextLength,
}

/// The longest username, in characters.
pub(crate) const MAX_USERNAME_CHARS: usize = 32;
/// The longest room name, in characters.
pub(crate) const MAX_ROOM_CHARS: usize = 32;
/// The longest message or announcement, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 2000;

/// A username: 1 to 32 printable characters, surrounding whitespace removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct Username(String);

impl Username {
    /// Checks a username as the client typed it.
    pub(crate) fn parse(raw: &str) -> Result<Username, InputError> {
        let name = raw.trim();
        let length = name.chars().count();
        if (1..=MAX_USERNAME_CHARS).contains(&length) && name.chars().all(is_printable) {
            Ok(Username(name.to_owned()))
        } else {
            Err(InputError::Username)
        }
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `c` shows as itself: no control characters, and none of the invisible formatting
/// characters (zero-width, bidirectional overrides) that let one name pass for another.
fn is_printable(c: char) -> bool {
    !c.is_control()
        && !matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// A chat room name: `general`, `tech`, `random`, or any name matching
/// `^[a-z0-9][a-z0-9-]{0,31}$`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct RoomName(String);

impl RoomName {
    /// The room every socket starts in.
    pub(crate) const LOBBY: &'static str = "general";
    /// The rooms the room list always shows, even when empty.
    pub(crate) const LISTED: [&'static str; 3] = [RoomName::LOBBY, "tech", "random"];

    /// Checks a room name.
    pub(crate) fn parse(raw: &str) -> Result<RoomName, InputError> {
        let mut chars = raw.chars();
        let valid_first = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let valid_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid_first && valid_rest && raw.len() <= MAX_ROOM_CHARS {
            Ok(RoomName(raw.to_owned()))
        } else {
            Err(InputError::RoomName)
        }
    }

    /// The lobby, `general`.
    pub(crate) fn lobby() -> RoomName {
        RoomName(RoomName::LOBBY.to_owned())
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a message or an announcement: 1 to 2000 characters, kept as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageText(String);

impl MessageText {
    /// Checks a text's length.
    pub(crate) fn parse(text: String) -> Result<MessageText, InputError> {
        if (1..=MAX_TEXT_CHARS).contains(&text.chars().count()) {
            Ok(MessageText(text))
        } else {
            Err(InputError::TextLength)
        }
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// An event argument that must be a string, as a handler's argument type. Unlike `String`,
/// which serde also builds from bytes that happen to be UTF-8, a binary attachment does not
/// pass for one: it is a wrong payload type like a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        struct TextVisitor;

        impl Visitor<'_> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text, E> {
                Ok(Text(text.to_owned()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Text, E> {
                Ok(Text(text))
            }
        }

        deserializer.deserialize_string(TextVisitor)
    }
}

macro_rules! string_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = InputError;

            fn try_from(raw: String) -> Result<Self, InputError> {
                $name::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

string_conversions!(Username, RoomName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        let cases: &[(&str, Option<&str>)] = &[
            ("alice", Some("alice")),
            ("  bob  ", Some("bob")),
            ("Zoë Ünicode 名前", Some("Zoë Ünicode 名前")),
            ("a", Some("a")),
            (&"x".repeat(32), Some(&"x".repeat(32))),
            (&"é".repeat(32), Some(&"é".repeat(32))),
            ("", None),
            ("   ", None),
            (&"x".repeat(33), None),
            ("new\nline", None),
            ("tab\there", None),
            ("nul\0", None),
            ("zero\u{200B}width", None),
            ("evil\u{202E}txt", None),
        ];
        for (raw, expected) in cases {
            let parsed = Username::parse(raw).ok();
            assert_eq!(parsed.as_ref().map(Username::as_str), *expected, "{raw:?}");
        }
        assert_eq!(
            Username::parse("").unwrap_err().to_string(),
            "username required"
        );
    }

    #[test]
    fn room_names() {
        let valid = [
            "general",
            "tech",
            "random",
            "a",
            "0",
            "rust-lang",
            "room-2",
            "a-",
            &"x".repeat(32),
        ];
        for name in valid {
            assert_eq!(
                RoomName::parse(name).map(|r| r.to_string()),
                Ok(name.to_owned())
            );
        }
        let invalid = [
            "",
            "-lead",
            "General",
            "with space",
            "under_score",
            "dot.ted",
            "émoji",
            "tab\t",
            &"x".repeat(33),
        ];
        for name in invalid {
            assert_eq!(RoomName::parse(name), Err(InputError::RoomName), "{name:?}");
        }
        for listed in RoomName::LISTED {
            assert!(RoomName::parse(listed).is_ok());
        }
        assert_eq!(RoomName::lobby().as_str(), "general");
        assert_eq!(InputError::RoomName.to_string(), "Invalid room name");
    }

    #[test]
    fn message_texts() {
        let ok = [
            "x".to_owned(),
            "x".repeat(2000),
            "日".repeat(2000),
            " ".into(),
        ];
        for text in ok {
            assert_eq!(MessageText::parse(text.clone()).map(|t| t.0), Ok(text));
        }
        for text in [String::new(), "x".repeat(2001), "日".repeat(2001)] {
            assert_eq!(MessageText::parse(text), Err(InputError::TextLength));
        }
    }

    #[test]
    fn text_arguments_are_strings_only() {
        assert_eq!(
            serde_json::from_str::<Text>(r#""hi""#).unwrap(),
            Text("hi".into())
        );
        for not_text in ["42", "null", "true", r#"["hi"]"#, r#"{"text":"hi"}"#] {
            assert!(
                serde_json::from_str::<Text>(not_text).is_err(),
                "{not_text}"
            );
        }
        let bytes = serde::de::value::BytesDeserializer::<serde::de::value::Error>::new(b"hi");
        assert!(Text::deserialize(bytes).is_err(), "bytes are not text");
    }

    #[test]
    fn names_round_trip_through_serde_and_are_checked_on_the_way_in() {
        let room: RoomName = serde_json::from_str(r#""tech""#).unwrap();
        assert_eq!(serde_json::to_string(&room).unwrap(), r#""tech""#);
        assert!(serde_json::from_str::<RoomName>(r#""Bad Room""#).is_err());
        assert!(serde_json::from_str::<Username>(r#""""#).is_err());
    }
}
