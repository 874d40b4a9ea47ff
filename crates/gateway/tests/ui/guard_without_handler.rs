use roomcast_gateway::gateway;

struct Echo;
struct Deny;

#[gateway]
impl Echo {
    #[use_guards(Deny)]
    async fn helper(&self) {}
}

fn main() {}
