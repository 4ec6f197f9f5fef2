//! Prints the MPTCP subflows sock_diag shows, with their health (debugging aid).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut d = mptcp_pm::diag::Diag::open()?;
    for s in d.subflows()? {
        println!("{:08x} {} -> {} {:?}", s.token, s.local, s.remote, s.health);
    }
    Ok(())
}
