use roomcast_gateway::gateway;

struct Echo;

#[gateway(namespace = "chat")]
impl Echo {}

fn main() {}
