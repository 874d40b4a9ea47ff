use roomcast_gateway::gateway;

struct Echo;

#[gateway(namespaces = "/chat")]
impl Echo {}

fn main() {}
