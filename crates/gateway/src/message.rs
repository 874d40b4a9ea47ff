//! An incoming message as a gateway handler sees it, and the parameters a handler takes from
//! it (NestJS's parameter decorators): [`Body`] (`@MessageBody`), [`Valid`] (a body checked
//! by its validation rules), the [`Socket`] (`@ConnectedSocket`), the [`Namespace`]
//! (`@WebSocketServer` of a gateway with a namespace), the [`Server`], the [`AckSender`]
//! (`@Ack`), the [`Handshake`], [`Auth`], the [`Event`] name, and the shared [`State`] the
//! server provides (NestJS's injected providers; a gateway's own fields are the other way).

use std::sync::Arc;

use garde::Validate;
use roomcast::{AckSender, Args, ArgsError, BoxError, Handshake, Namespace, Server, Socket, State};
use serde::de::DeserializeOwned;

use crate::exception::WsException;

/// The message's arguments do not read as the body type. The client gets the `exception` event
/// `invalid message: …` unless a filter catches it (its [`ArgsError`] says what was expected
/// and what came).
#[derive(Debug, thiserror::Error)]
#[error("invalid message: {}", .0.reason())]
pub struct InvalidBody(pub ArgsError);

/// The message body breaks its validation rules. The client gets the `exception` event naming
/// each failing field (`room: length is lower than 1; user: …`) unless a filter catches it.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(.0))]
pub struct Invalid(pub garde::Report);

/// One incoming message: the socket, the event, its arguments and its acknowledgement.
#[derive(Debug)]
pub struct Message {
    socket: Socket,
    event: Arc<str>,
    args: Args,
    ack: Option<AckSender>,
}

impl Message {
    /// A message of `socket`; `ack` when the client asked for an acknowledgement.
    pub fn new(socket: Socket, event: Arc<str>, args: Args, ack: Option<AckSender>) -> Message {
        Message {
            socket,
            event,
            args,
            ack,
        }
    }

    /// The socket it came from.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The event name (NestJS's pattern).
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The event name, shared.
    pub fn shared_event(&self) -> &Arc<str> {
        &self.event
    }

    /// Its arguments.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// Whether the client asked for an acknowledgement that nothing has taken yet.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Takes the acknowledgement: a parameter that answers it itself, or the reply.
    pub fn take_ack(&mut self) -> Option<AckSender> {
        self.ack.take()
    }

    /// Its parts: socket, event, arguments, acknowledgement.
    pub(crate) fn into_parts(self) -> (Socket, Arc<str>, Args, Option<AckSender>) {
        (self.socket, self.event, self.args, self.ack)
    }
}

/// A parameter of a gateway handler, taken from the message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a gateway handler",
    label = "not a gateway parameter",
    note = "the parameters of a gateway handler are, in any order: Body<T> or Valid<T> (the \
            message), Socket, Namespace, Server, AckSender, Handshake, Auth<T>, Event, State<T>"
)]
pub trait FromMessage: Sized {
    /// Takes the parameter from the message, or says why the message does not fit it (the
    /// error goes to the exception filters and the handler does not run).
    fn from_message(message: &mut Message) -> Result<Self, BoxError>;
}

/// The message body (`@MessageBody()`): the event's arguments read as `T` — a tuple takes
/// them positionally, any other type the first one.
///
/// ```
/// use roomcast_gateway::Body;
///
/// #[derive(serde::Deserialize)]
/// struct Join { room: String }
///
/// async fn join(Body(join): Body<Join>) -> String {
///     join.room
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromMessage for Body<T> {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        read_body(message).map(Body)
    }
}

fn read_body<T: DeserializeOwned>(message: &Message) -> Result<T, BoxError> {
    Ok(message.args.deserialize::<T>().map_err(InvalidBody)?)
}

/// A message body that passed its validation rules (a `ValidationPipe` with a DTO): `T`
/// derives them with [`garde::Validate`]. A body that breaks them never reaches the handler:
/// the client gets the `exception` event naming each failing field.
///
/// ```
/// use roomcast_gateway::Valid;
///
/// #[derive(serde::Deserialize, garde::Validate)]
/// struct Join {
///     #[garde(length(min = 1, max = 64), pattern(r"^[a-z0-9:_-]+$"))]
///     room: String,
/// }
///
/// async fn join(Valid(join): Valid<Join>) -> String {
///     join.room
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Valid<T>(pub T);

impl<T> FromMessage for Valid<T>
where
    T: DeserializeOwned + Validate,
    T::Context: Default,
{
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        let body: T = read_body(message)?;
        body.validate().map_err(Invalid)?;
        Ok(Valid(body))
    }
}

/// Each failure as `path: message`, joined with `; ` (`room: length is lower than 1`).
fn describe(report: &garde::Report) -> String {
    report
        .iter()
        .map(|(path, error)| {
            let path = path.to_string();
            if path.is_empty() {
                error.to_string()
            } else {
                format!("{path}: {error}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The handshake's `auth` object read as `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct Auth<T>(pub T);

impl<T: DeserializeOwned> FromMessage for Auth<T> {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        roomcast::value::from_value(message.socket.handshake().auth.clone())
            .map(Auth)
            .map_err(|error| WsException::new(format!("invalid auth: {error}")).into())
    }
}

/// The event name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event(pub Arc<str>);

impl FromMessage for Event {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        Ok(Event(message.event.clone()))
    }
}

impl FromMessage for Socket {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        Ok(message.socket.clone())
    }
}

impl FromMessage for Namespace {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        Ok(message.socket.namespace().clone())
    }
}

impl FromMessage for Server {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        message
            .socket
            .server()
            .ok_or_else(|| "the server is gone".into())
    }
}

impl<T: Send + Sync + 'static> FromMessage for State<T> {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        Ok(State::of(&message.socket)?)
    }
}

impl FromMessage for Handshake {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        Ok(message.socket.handshake().clone())
    }
}

/// The acknowledgement, answered by the handler itself (NestJS's `@Ack()`): its return value
/// then acknowledges nothing.
impl FromMessage for AckSender {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        Ok(message.take_ack().unwrap_or_else(AckSender::unrequested))
    }
}

/// The arguments as they came (taken: the exception filters then see no `data`).
impl FromMessage for Args {
    fn from_message(message: &mut Message) -> Result<Self, BoxError> {
        Ok(std::mem::take(&mut message.args))
    }
}
