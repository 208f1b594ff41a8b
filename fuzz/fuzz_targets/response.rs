//! AFL target: `cognate::federation::saml::response::verify`, decryptor included (see
//! `cognate_fuzz::response`).

fn main() {
    let certificates = cognate_fuzz::certificates();
    let keys = cognate_fuzz::decryption_keys();
    afl::fuzz!(|data: &[u8]| {
        cognate_fuzz::response(data, &certificates, &keys);
    });
}
