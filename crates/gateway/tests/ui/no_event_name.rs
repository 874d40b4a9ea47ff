use roomcast_gateway::gateway;

struct Echo;

#[gateway]
impl Echo {
    #[subscribe_message]
    async fn echo(&self) {}
}

fn main() {}
