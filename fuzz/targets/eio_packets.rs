//! Fuzz target: Engine.IO v4 packets and polling payloads.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        roomcast_engineio::fuzz::packets(data);
    });
}
