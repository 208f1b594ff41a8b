//! AFL target: `cognate::federation::saml::metadata::parse` (see `cognate_fuzz::metadata`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        cognate_fuzz::metadata(data);
    });
}
