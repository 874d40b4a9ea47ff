use roomcast_gateway::gateway;

struct Echo;

#[gateway]
impl Echo {
    #[subscribe_message("echo")]
    fn echo(&self) -> u32 {
        1
    }
}

fn main() {}
