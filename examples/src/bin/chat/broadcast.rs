//! Room broadcasts, each logged on one line: `emit "message" -> room "general" (3 members)`.

use roomcast::{BroadcastOperator, Namespace, Room, Socket};
use serde::Serialize;

use crate::input::RoomName;

/// Sends `event` to every socket in `room`, the sender too when it is a member.
pub(crate) async fn to_room<T>(nsp: &Namespace, room: &RoomName, event: &str, data: &T)
where
    T: Serialize + Sync + ?Sized,
{
    emit(nsp, nsp.to(room.as_str()), room, event, data, "").await;
}

/// Sends `event` to every socket in `room` but `sender`.
pub(crate) async fn to_room_except<T>(sender: &Socket, room: &RoomName, event: &str, data: &T)
where
    T: Serialize + Sync + ?Sized,
{
    let operator = sender.to(room.as_str());
    emit(
        sender.namespace(),
        operator,
        room,
        event,
        data,
        ", sender excluded",
    )
    .await;
}

async fn emit<T>(
    nsp: &Namespace,
    operator: BroadcastOperator,
    room: &RoomName,
    event: &str,
    data: &T,
    note: &str,
) where
    T: Serialize + Sync + ?Sized,
{
    let members = local_members(nsp, room);
    tracing::info!(
        "emit {event:?} -> room {:?} ({members}{note})",
        room.as_str()
    );
    if let Err(error) = operator.emit(event, data).await {
        tracing::warn!(%error, "emit {event:?} -> room {:?} failed", room.as_str());
    }
}

/// "N members" of `room` connected to this process: the ones the in-memory adapter delivers to.
pub(crate) fn local_members(nsp: &Namespace, room: &RoomName) -> String {
    let count = Room::new(room.as_str()).map_or(0, |room| nsp.room_size(&room));
    format!("{count} {}", if count == 1 { "member" } else { "members" })
}
