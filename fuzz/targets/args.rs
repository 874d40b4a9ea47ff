//! Fuzz target: JSON event arguments read into handler types.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        roomcast::fuzz::args(data);
    });
}
