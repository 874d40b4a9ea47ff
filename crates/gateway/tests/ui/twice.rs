use roomcast_gateway::gateway;

struct Echo;

#[gateway]
impl Echo {
    #[subscribe_message("echo")]
    async fn echo(&self) {}

    #[subscribe_message("echo")]
    async fn echo_again(&self) {}
}

fn main() {}
