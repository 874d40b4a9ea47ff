//! roomcast-gateway-showcase: every part of roomcast-gateway in one server — return values and
//! `WsResponse`, exceptions, guards (on messages, in order, and on connections), validation,
//! interceptors, exception filters, the parameters a handler takes, lifecycle hooks, dynamic
//! namespaces. The end-to-end tests drive it (and its NestJS twin, in tests/nest).
//!
//! Env: `PORT` (3000), `RUST_LOG` (info). Prints `listening on PORT` once ready.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use roomcast::{
    AckSender, ConnectError, DisconnectReason, Handshake, Namespace, Server, Socket, State, Value,
};
use roomcast_examples::{exit_code, init_tracing, port, shutdown_signal};
use roomcast_gateway::{
    gateway, register, Auth, Body, Catch, ConnectionGuard, ErrorHost, Event, Guard, GuardContext,
    InterceptContext, Interceptor, Next, Outcome, Valid, WsException, WsResponse,
};
use serde::Deserialize;
use serde_json::json;

/// Refuses every message.
struct Deny;

impl Guard for Deny {
    async fn can_activate(&self, _: GuardContext<'_>) -> bool {
        false
    }
}

/// Lets a message through when the handshake auth says `pass: true`.
struct Pass;

impl Guard for Pass {
    async fn can_activate(&self, ctx: GuardContext<'_>) -> bool {
        ctx.handshake().auth.get("pass").and_then(Value::as_bool) == Some(true)
    }
}

/// Lets a message through unless its body is `"no"`.
struct NotNo;

impl Guard for NotNo {
    async fn can_activate(&self, ctx: GuardContext<'_>) -> bool {
        ctx.body::<String>().as_deref() != Some("no")
    }
}

/// Logs how long every handler of the gateway took.
struct Timing;

impl Interceptor for Timing {
    async fn intercept(&self, ctx: InterceptContext<'_>, next: Next<'_>) -> Outcome {
        let start = Instant::now();
        let outcome = next.run().await;
        tracing::info!(
            "[{}] \"{}\" handled in {:?}",
            ctx.gateway(),
            ctx.event(),
            start.elapsed()
        );
        outcome
    }
}

/// Wraps a handler's value: `{ wrapped: value }`.
struct Wrap;

impl Interceptor for Wrap {
    async fn intercept(&self, _: InterceptContext<'_>, next: Next<'_>) -> Outcome {
        Ok(json!({ "wrapped": serde_json::to_value(next.run().await?)? }).into())
    }
}

/// An error of this application, for a filter of its own.
#[derive(Debug, thiserror::Error)]
#[error("I'm a teapot")]
struct Teapot;

fn teapot(error: &Teapot, host: &mut ErrorHost) {
    host.emit("teapot", &error.to_string());
    host.ack(&json!({ "teapot": true }));
}

/// Who the handshake says the client is.
#[derive(Debug, Deserialize)]
struct Who {
    #[serde(default)]
    user: Option<String>,
}

/// A number between 1 and 10.
#[derive(Debug, Deserialize, garde::Validate)]
#[garde(transparent)]
struct Small(#[garde(range(min = 1, max = 10))] u32);

/// How many `visit` messages the server has had, provided to every handler.
#[derive(Default)]
struct Visits(AtomicUsize);

/// Return values, exceptions, parameters, guards, interceptors and filters on `/`.
struct ShowcaseGateway;

#[gateway(use_interceptors(Timing))]
impl ShowcaseGateway {
    #[subscribe_message("retValue")]
    async fn ret_value(&self, Body(body): Body<Value>) -> Value {
        json!({ "ok": true, "echo": body }).into()
    }

    #[subscribe_message("retNothing")]
    async fn ret_nothing(&self) {}

    #[subscribe_message("retNone")]
    async fn ret_none(&self) -> Option<u32> {
        None
    }

    #[subscribe_message("retZero")]
    async fn ret_zero(&self) -> u32 {
        0
    }

    #[subscribe_message("wsResponse")]
    async fn ws_response(&self, Body(body): Body<Value>) -> WsResponse<Value> {
        WsResponse::new("reply", body)
    }

    #[subscribe_message("eventOnly")]
    async fn event_only(&self) -> Value {
        json!({ "event": "bare" }).into()
    }

    #[subscribe_message("throwText")]
    async fn throw_text(&self) -> Result<(), WsException> {
        Err(WsException::new("msg"))
    }

    #[subscribe_message("throwObject")]
    async fn throw_object(&self) -> Result<(), WsException> {
        Err(WsException::with_object(&json!({ "code": 7 })))
    }

    #[subscribe_message("throwError")]
    async fn throw_error(&self) -> Result<(), std::io::Error> {
        Err(std::io::Error::other("boom"))
    }

    #[subscribe_message("manualAck")]
    async fn manual_ack(&self, ack: AckSender) -> &'static str {
        if let Err(error) = ack.send("manual") {
            tracing::debug!(%error, "manual acknowledgement not sent");
        }
        "ignored"
    }

    #[subscribe_message("whoami")]
    async fn whoami(
        &self,
        Auth(who): Auth<Who>,
        handshake: Handshake,
        Event(event): Event,
        socket: Socket,
    ) -> Value {
        json!({
            "user": who.user,
            "pattern": &*event,
            "query": handshake.query().get("tag"),
            "id": socket.id(),
        })
        .into()
    }

    #[subscribe_message("visit")]
    async fn visit(&self, visits: State<Visits>) -> usize {
        visits.0.fetch_add(1, Ordering::Relaxed) + 1
    }

    #[subscribe_message("denied")]
    #[use_guards(Deny)]
    async fn denied(&self) -> &'static str {
        "never"
    }

    #[subscribe_message("wrapped")]
    #[use_interceptors(Wrap)]
    async fn wrapped(&self) -> u32 {
        1
    }

    #[subscribe_message("teapot")]
    #[use_filters(Catch::new(teapot))]
    async fn teapot(&self) -> Result<(), Teapot> {
        Err(Teapot)
    }

    #[subscribe_message("double")]
    async fn double(&self, Valid(Small(n)): Valid<Small>) -> u32 {
        n * 2
    }
}

/// Gateway guards before handler guards, on `/guarded`.
struct GuardedGateway;

#[gateway(namespace = "/guarded", use_guards(Pass))]
impl GuardedGateway {
    #[subscribe_message("check")]
    #[use_guards(NotNo)]
    async fn check(&self, Body(text): Body<String>) -> String {
        format!("ok {text}")
    }
}

/// A connection guard with a refusal of its own, and the lifecycle hooks, on `/members`.
struct MembersGateway;

/// Only handshakes with `auth.member`.
struct MembersOnly;

impl ConnectionGuard for MembersOnly {
    async fn can_connect(&self, socket: &Socket) -> Result<(), ConnectError> {
        match socket.handshake().auth.get("member") {
            Some(Value::String(member)) if !member.is_empty() => Ok(()),
            _ => Err(ConnectError::new("members only").with_data(json!({ "need": "member" }))),
        }
    }
}

#[gateway(namespace = "/members", connection_guards(MembersOnly))]
impl MembersGateway {
    #[handle_connection]
    async fn handle_connection(&self, socket: Socket) -> Result<(), roomcast::Error> {
        socket.emit("welcome", socket.id().as_str())
    }

    #[handle_disconnect]
    async fn handle_disconnect(&self, socket: Socket, reason: DisconnectReason) {
        tracing::info!("[MembersGateway] {} left: {reason}", socket.id());
        let parting = json!({ "id": socket.id(), "reason": reason.to_string() });
        if let Err(error) = socket.namespace().emit("parted", &parting).await {
            tracing::debug!(%error, "parted not sent");
        }
    }
}

/// A dynamic namespace: every `/dyn-<letters>`.
struct DynGateway;

#[gateway(namespace = regex("^/dyn-[a-z]+$"))]
impl DynGateway {
    #[after_init]
    async fn after_init(&self, nsp: Namespace) {
        tracing::info!("[DynGateway] initialized on {}", nsp.name());
    }

    #[subscribe_message("where")]
    async fn where_(&self, nsp: Namespace) -> String {
        nsp.name().to_owned()
    }
}

fn main() -> ExitCode {
    roomcast_examples::allocator::return_freed_memory_at_once();
    init_tracing();
    let outcome = roomcast_examples::runtime::multi_thread()
        .map_err(Into::into)
        .and_then(|runtime| runtime.block_on(run()));
    exit_code("roomcast-gateway-showcase", outcome)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let port = port()?;
    let io = Server::new();
    io.provide(Visits::default());
    register(&io, ShowcaseGateway).await?;
    register(&io, GuardedGateway).await?;
    register(&io, MembersGateway).await?;
    register(&io, DynGateway).await?;
    let listener = roomcast::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?.port());
    tokio::select! {
        served = io.serve(listener) => served?,
        () = shutdown_signal() => io.close().await,
    }
    Ok(())
}
