//! The server's SRP against an independent Cognito client (`aws-cognito-srp`).

use aws_cognito_srp::{SrpClient, User, VerificationParameters};

use super::*;

const POOL: &str = "us-east-1_AbCdEf123";

/// What the server makes for one challenge: `b`, `B` and the verifier.
struct Server {
    salt: String,
    v: BigUint,
    b: [u8; SERVER_SECRET_BYTES],
    b_pub: BigUint,
}

fn server(user_id: &str, password: &str) -> Server {
    let salt = new_salt();
    let v = verifier(POOL, user_id, password, &salt).unwrap();
    let b = random_bytes::<SERVER_SECRET_BYTES>();
    let b_pub = server_public(&v, &b);
    Server { salt, v, b, b_pub }
}

/// The client's answer to the server's challenge, as `aws-cognito-srp` computes it.
fn client_answer(
    client: &SrpClient<User>,
    server: &Server,
    user_id: &str,
    block: &[u8],
) -> VerificationParameters {
    client
        .verify(
            &STANDARD.encode(block),
            user_id,
            &server.salt,
            &int_to_hex(&server.b_pub),
        )
        .unwrap()
}

/// Whether the server accepts the client's answer.
fn server_accepts(
    server: &Server,
    srp_a: &str,
    user_id: &str,
    block: &[u8],
    answer: &VerificationParameters,
) -> bool {
    let a = parse_a(srp_a).unwrap();
    let key = session_key(&a, &server.b_pub, &server.b, &server.v).unwrap();
    let expected = claim(&key, POOL, user_id, block, &answer.timestamp);
    let given = parse_signature(&answer.password_claim_signature).unwrap();
    crate::core::secrets::constant_time_eq(&expected, &given)
}

#[test]
fn a_round_trip_with_an_independent_client_holds_and_a_wrong_password_fails() {
    let block = random_bytes::<64>();
    let client = SrpClient::new(User::new(POOL, "alice", "Correct horse 1!"), "client", None);
    let srp_a = client.get_auth_parameters().a;
    let honest = server("alice", "Correct horse 1!");
    let answer = client_answer(&client, &honest, "alice", &block);
    assert!(server_accepts(&honest, &srp_a, "alice", &block, &answer));
    // The timestamp it signed is in Cognito's format and now.
    let at = parse_timestamp(&answer.timestamp).unwrap();
    assert!(timestamp_is_fresh(at, Utc::now().timestamp()));

    // The same client with another password: the proof fails.
    let wrong = SrpClient::new(User::new(POOL, "alice", "Correct horse 2!"), "client", None);
    let srp_a = wrong.get_auth_parameters().a;
    let answer = client_answer(&wrong, &honest, "alice", &block);
    assert!(!server_accepts(&honest, &srp_a, "alice", &block, &answer));

    // USER_ID_FOR_SRP is hashed in: a verifier made for another name fails.
    let other_name = server("bob", "Correct horse 1!");
    let srp_a = client.get_auth_parameters().a;
    let answer = client_answer(&client, &other_name, "alice", &block);
    assert!(!server_accepts(
        &other_name,
        &srp_a,
        "alice",
        &block,
        &answer
    ));

    // So is the pool's name (the part after '_'): another pool's verifier fails.
    let salt = new_salt();
    let v = verifier("us-east-1_Other", "alice", "Correct horse 1!", &salt).unwrap();
    let b = random_bytes::<SERVER_SECRET_BYTES>();
    let elsewhere = Server {
        b_pub: server_public(&v, &b),
        salt,
        v,
        b,
    };
    let answer = client_answer(&client, &elsewhere, "alice", &block);
    assert!(!server_accepts(
        &elsewhere, &srp_a, "alice", &block, &answer
    ));
}

#[test]
fn the_claim_covers_the_secret_block_and_the_timestamp() {
    let block = random_bytes::<64>();
    let client = SrpClient::new(User::new(POOL, "alice", "pw"), "client", None);
    let srp_a = client.get_auth_parameters().a;
    let s = server("alice", "pw");
    let answer = client_answer(&client, &s, "alice", &block);
    assert!(server_accepts(&s, &srp_a, "alice", &block, &answer));
    let mut other_block = block;
    other_block[0] ^= 1;
    assert!(!server_accepts(&s, &srp_a, "alice", &other_block, &answer));
    let later = VerificationParameters {
        timestamp: format_timestamp(parse_timestamp(&answer.timestamp).unwrap() + 1),
        password_claim_secret_block: answer.password_claim_secret_block.clone(),
        password_claim_signature: answer.password_claim_signature.clone(),
    };
    assert!(!server_accepts(&s, &srp_a, "alice", &block, &later));
}

#[test]
fn the_pool_name_is_the_part_after_the_underscore() {
    assert_eq!(pool_name("us-east-1_AbC123"), "AbC123");
    assert_eq!(pool_name("eu-west-2_x"), "x");
}

#[test]
fn numbers_are_padded_as_pad_hex_does() {
    assert_eq!(pad(&BigUint::from(0x7fu32)), vec![0x7f]);
    assert_eq!(pad(&BigUint::from(0x80u32)), vec![0x00, 0x80]);
    assert_eq!(pad(&BigUint::from(0x0102u32)), vec![0x01, 0x02]);
    assert_eq!(pad(&BigUint::ZERO), vec![0x00]);
    // N starts with FF, so PAD(N) is 385 bytes.
    assert_eq!(pad(&N).len(), 385);
    assert_eq!(N.bits(), 3072);
}

#[test]
fn a_with_a_multiple_of_n_is_refused() {
    let n = &*N;
    for bad in [BigUint::ZERO, n.clone(), n * 2u32] {
        let hex = int_to_hex(&bad);
        let hex = if hex.is_empty() { "0".to_string() } else { hex };
        let e = parse_a(&hex).unwrap_err();
        assert_eq!(e.field, "SRP_A", "{hex}");
    }
    assert!(parse_a("00").is_err());
    assert!(parse_a("").is_err());
    assert!(parse_a("xyz").is_err());
    assert!(parse_a(&"1".repeat(MAX_A_HEX_DIGITS + 1)).is_err());
    // An honest A (and N + 1, which is 1 mod N) is read.
    assert!(parse_a(&int_to_hex(&(n + 1u32))).is_ok());
    let client = SrpClient::new(User::new(POOL, "alice", "pw"), "client", None);
    assert!(parse_a(&client.get_auth_parameters().a).is_ok());
}

#[test]
fn a_scrambler_of_zero_is_refused() {
    let v = BigUint::from(5u32);
    let a = BigUint::from(7u32);
    let e = key_for_scrambler(&BigUint::ZERO, &a, &[1; 32], &v).unwrap_err();
    assert_eq!(e.field, "SRP_A");
    assert!(key_for_scrambler(&BigUint::from(1u32), &a, &[1; 32], &v).is_ok());
}

#[test]
fn timestamps_are_cognitos_format_exactly() {
    // 2026-12-06 04:00:00 UTC, a Sunday: the day is not zero-padded.
    let t = 1_796_529_600;
    assert_eq!(format_timestamp(t), "Sun Dec 6 04:00:00 UTC 2026");
    assert_eq!(parse_timestamp("Sun Dec 6 04:00:00 UTC 2026"), Ok(t));
    assert_eq!(
        format_timestamp(1_739_212_212),
        "Mon Feb 10 18:30:12 UTC 2025"
    );
    for bad in [
        "Sun Dec 06 04:00:00 UTC 2026", // padded day
        "Mon Dec 6 04:00:00 UTC 2026",  // wrong weekday
        "Sun Dec  6 04:00:00 UTC 2026", // space-padded day
        "Sun Dec 6 4:00:00 UTC 2026",   // unpadded hour
        "Sun Dec 6 04:00:00 GMT 2026",  // another zone
        "Sun Dec 6 04:00:00 UTC 2026 ", // trailing space
        "2026-12-06T04:00:00Z",
        "",
    ] {
        let e = parse_timestamp(bad).unwrap_err();
        assert_eq!(e.field, "TIMESTAMP", "{bad}");
    }
    assert!(timestamp_is_fresh(t, t + TIMESTAMP_WINDOW_SECS));
    assert!(timestamp_is_fresh(t, t - TIMESTAMP_WINDOW_SECS));
    assert!(!timestamp_is_fresh(t, t + TIMESTAMP_WINDOW_SECS + 1));
    assert!(!timestamp_is_fresh(t, t - TIMESTAMP_WINDOW_SECS - 1));
}

#[test]
fn salts_never_start_with_a_zero_byte() {
    for _ in 0..200 {
        let salt = new_salt();
        assert_eq!(salt.len(), 2 * SALT_BYTES);
        assert_ne!(&salt[..2], "00");
    }
}

#[test]
fn fake_answers_are_deterministic_per_key_pool_and_seed() {
    let key = [7u8; 32];
    let (salt, v) = fake_verifier(&key, POOL, "login:nobody");
    assert_eq!(
        fake_verifier(&key, POOL, "login:nobody"),
        (salt.clone(), v.clone())
    );
    assert_eq!(salt.len(), 2 * SALT_BYTES);
    assert!(v < *N);
    assert_ne!(fake_verifier(&key, POOL, "login:nobody2").0, salt);
    assert_ne!(
        fake_verifier(&key, "us-east-1_Other", "login:nobody").0,
        salt
    );
    assert_ne!(fake_verifier(&[8u8; 32], POOL, "login:nobody").0, salt);
    let id = fake_user_id(&key, POOL, "login:nobody@example.com");
    assert_eq!(id, fake_user_id(&key, POOL, "login:nobody@example.com"));
    assert!(uuid::Uuid::parse_str(&id).is_ok());
}

#[test]
fn the_key_for_fake_answers_is_derived_per_purpose_and_master_key() {
    use crate::core::secrets::MasterKey;
    let (master, text) = MasterKey::generate();
    let again = MasterKey::from_base64(&text).unwrap();
    // Every node with the master key derives the same key, so they answer alike.
    assert_eq!(
        master.derive_key("srp-unknown-users"),
        again.derive_key("srp-unknown-users")
    );
    assert_ne!(
        master.derive_key("srp-unknown-users"),
        master.derive_key("other")
    );
    let (other, _) = MasterKey::generate();
    assert_ne!(
        master.derive_key("srp-unknown-users"),
        other.derive_key("srp-unknown-users")
    );
}
