//! Fuzz target: Socket.IO packets with binary attachment reassembly, and their arguments.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        roomcast::fuzz::packets(data);
    });
}
