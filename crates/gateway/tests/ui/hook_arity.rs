use roomcast_gateway::gateway;

struct Echo;

#[gateway]
impl Echo {
    #[handle_disconnect]
    async fn gone(&self, socket: roomcast::Socket) {
        let _ = socket;
    }
}

fn main() {}
