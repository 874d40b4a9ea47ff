//! Fuzz target: WebSocket frames, their reassembly and permessage-deflate.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        roomcast_engineio::fuzz::websocket(data);
    });
}
