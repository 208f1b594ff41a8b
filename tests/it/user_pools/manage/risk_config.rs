//! SetRiskConfiguration / DescribeRiskConfiguration (issue 17) through the AWS SDK: the
//! Cognito shapes map onto `[pools.threat_protection]`; what Cognate cannot honour is
//! refused by name and changes nothing; a pool without advanced security gets Cognito's
//! `UserPoolAddOnNotEnabledException`.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AccountTakeoverActionType, AccountTakeoverActionsType, AccountTakeoverEventActionType,
    AccountTakeoverRiskConfigurationType, AdvancedSecurityModeType,
    CompromisedCredentialsActionsType, CompromisedCredentialsEventActionType,
    CompromisedCredentialsRiskConfigurationType, EventFilterType, NotifyConfigurationType,
    RiskExceptionConfigurationType, UserPoolAddOnsType,
};
use aws_sdk_cognitoidentityprovider::Client;
use cognate::core::model::{CompromisedPasswords, RiskAction};

use crate::support::server::TestServer;
use crate::user_pools::operator_client;

async fn api_pool(admin: &Client, mode: AdvancedSecurityModeType) -> String {
    admin
        .create_user_pool()
        .pool_name("risky")
        .user_pool_add_ons(
            UserPoolAddOnsType::builder()
                .advanced_security_mode(mode)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool()
        .and_then(|p| p.id())
        .unwrap()
        .to_string()
}

fn action(notify: bool, a: AccountTakeoverEventActionType) -> AccountTakeoverActionType {
    AccountTakeoverActionType::builder()
        .notify(notify)
        .event_action(a)
        .build()
        .unwrap()
}

fn compromised(
    filter: &[EventFilterType],
    a: CompromisedCredentialsEventActionType,
) -> CompromisedCredentialsRiskConfigurationType {
    CompromisedCredentialsRiskConfigurationType::builder()
        .set_event_filter(Some(filter.to_vec()))
        .actions(
            CompromisedCredentialsActionsType::builder()
                .event_action(a)
                .build()
                .unwrap(),
        )
        .build()
}

#[tokio::test]
async fn risk_configuration_round_trips_and_refuses_what_it_cannot_honour() {
    let server = TestServer::start("").await;
    let admin = operator_client(&server).await;

    // Advanced security off: Cognito's exception for both calls.
    let off = api_pool(&admin, AdvancedSecurityModeType::Off).await;
    let e = admin
        .describe_risk_configuration()
        .user_pool_id(&off)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("UserPoolAddOnNotEnabledException"), "{e:?}");
    let e = admin
        .set_risk_configuration()
        .user_pool_id(&off)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("UserPoolAddOnNotEnabledException"), "{e:?}");

    // The honest configuration, on an enforced pool, is stored and described back.
    let id = api_pool(&admin, AdvancedSecurityModeType::Enforced).await;
    let takeover = AccountTakeoverRiskConfigurationType::builder()
        .actions(
            AccountTakeoverActionsType::builder()
                .low_action(action(false, AccountTakeoverEventActionType::NoAction))
                .medium_action(action(true, AccountTakeoverEventActionType::MfaRequired))
                .high_action(action(true, AccountTakeoverEventActionType::Block))
                .build(),
        )
        .build();
    let set = admin
        .set_risk_configuration()
        .user_pool_id(&id)
        .account_takeover_risk_configuration(takeover.clone())
        .compromised_credentials_risk_configuration(compromised(
            &[EventFilterType::SignUp, EventFilterType::PasswordChange],
            CompromisedCredentialsEventActionType::Block,
        ))
        .send()
        .await
        .expect("SetRiskConfiguration");
    let stored = server.pool(&id).await.threat_protection;
    assert_eq!(stored.compromised_passwords, CompromisedPasswords::Block);
    assert_eq!(
        (stored.low.action, stored.medium.action, stored.high.action),
        (RiskAction::Allow, RiskAction::Mfa, RiskAction::Block)
    );
    assert!(!stored.low.notify && stored.medium.notify && stored.high.notify);
    let described = admin
        .describe_risk_configuration()
        .user_pool_id(&id)
        .send()
        .await
        .expect("DescribeRiskConfiguration")
        .risk_configuration
        .unwrap();
    assert_eq!(set.risk_configuration, Some(described.clone()));
    let high = described
        .account_takeover_risk_configuration()
        .and_then(|t| t.actions())
        .and_then(|a| a.high_action())
        .unwrap();
    assert_eq!(high.event_action(), &AccountTakeoverEventActionType::Block);
    let filter = described
        .compromised_credentials_risk_configuration()
        .unwrap()
        .event_filter();
    assert!(
        filter.contains(&EventFilterType::SignUp) && !filter.contains(&EventFilterType::SignIn)
    );

    // All three events (or no filter): a sign-in with a leaked password requires a reset.
    admin
        .set_risk_configuration()
        .user_pool_id(&id)
        .compromised_credentials_risk_configuration(
            CompromisedCredentialsRiskConfigurationType::builder()
                .actions(
                    CompromisedCredentialsActionsType::builder()
                        .event_action(CompromisedCredentialsEventActionType::Block)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("SetRiskConfiguration without a filter");
    let stored = server.pool(&id).await.threat_protection;
    assert_eq!(stored.compromised_passwords, CompromisedPasswords::Reset);
    // The omitted takeover configuration returned to its default, as in Cognito.
    assert_eq!(stored.high.action, RiskAction::Allow);

    // Refused by name, nothing changed.
    let before = server.pool(&id).await;
    let mfa_if = AccountTakeoverRiskConfigurationType::builder()
        .actions(
            AccountTakeoverActionsType::builder()
                .high_action(action(
                    true,
                    AccountTakeoverEventActionType::MfaIfConfigured,
                ))
                .build(),
        )
        .build();
    let notify = AccountTakeoverRiskConfigurationType::builder()
        .notify_configuration(
            NotifyConfigurationType::builder()
                .source_arn("arn:aws:ses:us-east-1:123456789012:identity/example.com")
                .build()
                .unwrap(),
        )
        .actions(AccountTakeoverActionsType::builder().build())
        .build();
    let cases = [
        (
            admin
                .set_risk_configuration()
                .user_pool_id(&id)
                .account_takeover_risk_configuration(mfa_if),
            "MFA_IF_CONFIGURED",
        ),
        (
            admin
                .set_risk_configuration()
                .user_pool_id(&id)
                .account_takeover_risk_configuration(notify),
            "NotifyConfiguration",
        ),
        (
            admin
                .set_risk_configuration()
                .user_pool_id(&id)
                .compromised_credentials_risk_configuration(compromised(
                    &[EventFilterType::SignIn],
                    CompromisedCredentialsEventActionType::Block,
                )),
            "EventFilter",
        ),
        (
            admin
                .set_risk_configuration()
                .user_pool_id(&id)
                .risk_exception_configuration(
                    RiskExceptionConfigurationType::builder()
                        .blocked_ip_range_list("203.0.113.0/24")
                        .build(),
                ),
            "RiskExceptionConfiguration",
        ),
        (
            admin
                .set_risk_configuration()
                .user_pool_id(&id)
                .client_id("someclient"),
            "ClientId",
        ),
    ];
    for (request, named) in cases {
        let e = request.send().await.unwrap_err();
        assert_eq!(
            e.code(),
            Some("InvalidParameterException"),
            "{named}: {e:?}"
        );
        assert!(
            e.message().unwrap_or_default().contains(named),
            "{named}: {:?}",
            e.message()
        );
    }
    assert_eq!(server.pool(&id).await, before, "refusals change nothing");

    // An unknown pool.
    let e = admin
        .describe_risk_configuration()
        .user_pool_id("us-east-1_Nope12345")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"), "{e:?}");
}
