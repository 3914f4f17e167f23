fn main() {
    match clmb_operator::crd::crd_yaml() {
        Ok(y) => print!("{y}"),
        Err(e) => eprintln!("{e}"),
    }
}
