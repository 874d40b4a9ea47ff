use roomcast_gateway::gateway;

struct Echo;

#[gateway]
impl Echo {
    #[subscribe_message("echo")]
    async fn echo(&self, text: String) -> String {
        text
    }
}

fn main() {}
