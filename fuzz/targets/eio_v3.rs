//! Fuzz target: Engine.IO v3 polling payloads and binary packets.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        roomcast_engineio::fuzz::v3_payloads(data);
    });
}
