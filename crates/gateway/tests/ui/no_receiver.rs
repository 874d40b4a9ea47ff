use roomcast_gateway::gateway;

struct Echo;

#[gateway]
impl Echo {
    #[subscribe_message("echo")]
    async fn echo(n: u32) -> u32 {
        n
    }
}

fn main() {}
