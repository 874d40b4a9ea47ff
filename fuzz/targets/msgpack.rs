//! Fuzz target: socket.io-msgpack-parser packets and MessagePack values.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        roomcast::fuzz::msgpack(data);
    });
}
