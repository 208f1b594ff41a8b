//! USER_SRP_AUTH through the AWS SDK, the client side computed by an independent Cognito
//! SRP client (the `aws-cognito-srp` crate's `SrpClient`), and the SRP attacks, each
//! beside the honest sign-in: a wrong password proof, `A = 0` and `A = N`, a replayed
//! SECRET_BLOCK, an unknown user (a fake challenge, then the wrong-password answer; LEGACY
//! clients say the user does not exist), a client that takes no passwords. The SRP
//! state's expiry is unit-tested in the core with an explicit clock.

use aws_cognito_srp::{SrpClient, User as SrpUser, UserAuthenticationParameters};
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::{
    InitiateAuthError, InitiateAuthOutput,
};
use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::{
    RespondToAuthChallengeError, RespondToAuthChallengeOutput,
};
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_cognitoidentityprovider::Client;

use super::*;
use crate::claims::claims_of;

/// The RFC 5054 3072-bit prime, as hex (`A = N` is `A mod N = 0`).
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B",
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31",
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
);

fn code_of<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    result: Result<T, SdkError<E, R>>,
) -> String {
    let e = result.expect_err("the call must be refused");
    e.as_service_error()
        .unwrap_or_else(|| panic!("not a service error: {e:?}"))
        .code()
        .unwrap_or_default()
        .to_string()
}

async fn start_srp(
    sdk: &Client,
    client_id: &str,
    username: &str,
    srp_a: &str,
    secret_hash: Option<String>,
) -> Result<InitiateAuthOutput, SdkError<InitiateAuthError>> {
    let mut parameters = std::collections::HashMap::from([
        ("USERNAME".to_string(), username.to_string()),
        ("SRP_A".to_string(), srp_a.to_string()),
    ]);
    if let Some(hash) = secret_hash {
        parameters.insert("SECRET_HASH".to_string(), hash);
    }
    sdk.initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .set_auth_parameters(Some(parameters))
        .send()
        .await
}

/// The PASSWORD_VERIFIER answer `srp` computes for `challenge`.
async fn answer(
    sdk: &Client,
    client_id: &str,
    srp: &SrpClient<SrpUser>,
    challenge: &InitiateAuthOutput,
) -> Result<RespondToAuthChallengeOutput, SdkError<RespondToAuthChallengeError>> {
    assert_eq!(
        challenge.challenge_name(),
        Some(&ChallengeNameType::PasswordVerifier)
    );
    let p = challenge.challenge_parameters().unwrap();
    let verification = srp
        .verify(
            &p["SECRET_BLOCK"],
            &p["USER_ID_FOR_SRP"],
            &p["SALT"],
            &p["SRP_B"],
        )
        .unwrap();
    let mut call = sdk
        .respond_to_auth_challenge()
        .client_id(client_id)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
        .challenge_responses(
            "PASSWORD_CLAIM_SECRET_BLOCK",
            verification.password_claim_secret_block,
        )
        .challenge_responses(
            "PASSWORD_CLAIM_SIGNATURE",
            verification.password_claim_signature,
        )
        .challenge_responses("TIMESTAMP", verification.timestamp);
    if let Some(session) = challenge.session() {
        call = call.session(session);
    }
    if client_id == SECRET_APP {
        // The answer's SECRET_HASH is over USER_ID_FOR_SRP, as Cognito's clients send it.
        let hash = secret_hash(SECRET, &p["USER_ID_FOR_SRP"], SECRET_APP);
        call = call.challenge_responses("SECRET_HASH", hash);
    }
    call.send().await
}

fn srp_client(
    pool: &str,
    username: &str,
    password: &str,
    client_id: &str,
    secret: Option<&str>,
) -> SrpClient<SrpUser> {
    SrpClient::new(SrpUser::new(pool, username, password), client_id, secret)
}

#[tokio::test]
async fn srp_sign_in_computed_by_an_independent_client() {
    let server = start().await;
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let sdk = public_client(&server);
    for client_id in [APP, SRP_ONLY] {
        let srp = srp_client(POOL, "alice", PASSWORD, client_id, None);
        let UserAuthenticationParameters { a, username } = srp.get_auth_parameters();
        let challenge = start_srp(&sdk, client_id, &username, &a, None)
            .await
            .unwrap();
        let p = challenge.challenge_parameters().unwrap();
        assert_eq!(p["USER_ID_FOR_SRP"], "alice");
        assert!(!p["SALT"].is_empty() && !p["SRP_B"].is_empty() && !p["SECRET_BLOCK"].is_empty());
        let out = answer(&sdk, client_id, &srp, &challenge).await.unwrap();
        let tokens = out.authentication_result().expect("tokens");
        let access = claims_of(tokens.access_token().unwrap());
        assert_eq!(access["client_id"], client_id);
        assert_eq!(access["username"], "alice");
        assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
        assert_eq!(claims_of(tokens.id_token().unwrap())["aud"], client_id);
        assert!(tokens.refresh_token().is_some());
    }
    // A client with a secret: SECRET_HASH on both steps.
    let srp = srp_client(POOL, "alice", PASSWORD, SECRET_APP, Some(SECRET));
    let UserAuthenticationParameters { a, username } = srp.get_auth_parameters();
    assert_eq!(
        code_of(start_srp(&sdk, SECRET_APP, &username, &a, None).await),
        "NotAuthorizedException"
    );
    let challenge = start_srp(&sdk, SECRET_APP, &username, &a, srp.get_secret_hash())
        .await
        .unwrap();
    assert!(answer(&sdk, SECRET_APP, &srp, &challenge)
        .await
        .unwrap()
        .authentication_result()
        .is_some());
    server.stop().await;
}

#[tokio::test]
async fn srp_attacks_are_refused_beside_the_honest_sign_in() {
    let server = start().await;
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let sdk = public_client(&server);
    let honest = srp_client(POOL, "alice", PASSWORD, APP, None);
    let UserAuthenticationParameters { a, username } = honest.get_auth_parameters();
    let challenge = start_srp(&sdk, APP, &username, &a, None).await.unwrap();
    let p = challenge.challenge_parameters().unwrap().clone();
    let verification = honest
        .verify(
            &p["SECRET_BLOCK"],
            &p["USER_ID_FOR_SRP"],
            &p["SALT"],
            &p["SRP_B"],
        )
        .unwrap();
    let respond = |secret_block: String, signature: String, timestamp: String| {
        sdk.respond_to_auth_challenge()
            .client_id(APP)
            .challenge_name(ChallengeNameType::PasswordVerifier)
            .challenge_responses("USERNAME", "alice")
            .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", secret_block)
            .challenge_responses("PASSWORD_CLAIM_SIGNATURE", signature)
            .challenge_responses("TIMESTAMP", timestamp)
            .send()
    };
    // The honest proof signs in once; the same SECRET_BLOCK again is refused.
    let out = respond(
        verification.password_claim_secret_block.clone(),
        verification.password_claim_signature.clone(),
        verification.timestamp.clone(),
    )
    .await
    .unwrap();
    assert!(out.authentication_result().is_some());
    let replay = respond(
        verification.password_claim_secret_block,
        verification.password_claim_signature,
        verification.timestamp,
    )
    .await;
    assert_eq!(code_of(replay), "NotAuthorizedException");

    // A wrong password's proof.
    let wrong = srp_client(POOL, "alice", "Wrong-horse-1", APP, None);
    let UserAuthenticationParameters { a, username } = wrong.get_auth_parameters();
    let challenge = start_srp(&sdk, APP, &username, &a, None).await.unwrap();
    assert_eq!(
        code_of(answer(&sdk, APP, &wrong, &challenge).await),
        "NotAuthorizedException"
    );

    // A = 0 and A = N (A mod N = 0) are refused at once.
    for bad_a in ["0", "00", N_HEX] {
        assert_eq!(
            code_of(start_srp(&sdk, APP, "alice", bad_a, None).await),
            "InvalidParameterException",
            "A = {bad_a}"
        );
    }

    // An unknown user gets a challenge of the same shape, then the wrong-password answer.
    let ghost = srp_client(POOL, "nobody", PASSWORD, APP, None);
    let UserAuthenticationParameters { a, username } = ghost.get_auth_parameters();
    let challenge = start_srp(&sdk, APP, &username, &a, None).await.unwrap();
    let refused = answer(&sdk, APP, &ghost, &challenge).await;
    assert_eq!(code_of(refused), "NotAuthorizedException");
    // LEGACY says it.
    assert_eq!(
        code_of(start_srp(&sdk, LEGACY, &username, &a, None).await),
        "UserNotFoundException"
    );
    // A client that takes no passwords.
    assert_eq!(
        code_of(start_srp(&sdk, NO_PASSWORDS, "alice", &a, None).await),
        "InvalidParameterException"
    );
    server.stop().await;
}
