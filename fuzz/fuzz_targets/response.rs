//! AFL target: `cognate::federation::saml::response::verify` (see `cognate_fuzz::response`).

fn main() {
    let certificates = cognate_fuzz::certificates();
    afl::fuzz!(|data: &[u8]| {
        cognate_fuzz::response(data, &certificates);
    });
}
