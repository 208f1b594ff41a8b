//! Provider presets: one declarative file per kind of upstream IdP under `providers/`
//! (`google`, `apple`, `facebook`, `amazon`, `oidc`, `saml`), embedded in the binary.
//!
//! A preset holds everything a provider kind has in common (protocol, issuer, endpoints,
//! scopes, claim mapping, quirks). An operator's `[[pools.identity_providers]]` names a
//! preset and may override any of it; [`crate::config::decl::IdpDecl`] applies the
//! overrides to the preset's values and [`Preset::protocol_settings`] shapes the result
//! into the protocol part of a complete [`crate::core::model::IdentityProvider`] record.
//! The files stay flat (every protocol's keys side by side, `protocol` choosing): that is
//! the operator's format, and a key the chosen protocol does not read is ignored.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::core::model::{
    AppleSigningKey, FlatProtocolSettings, Protocol, ProtocolSettings, ProviderType, Quirk,
    ResponseMode, TokenEndpointAuthMethod,
};
use crate::core::secrets::EncryptedSecret;

/// The embedded preset files, by preset name.
const SOURCES: &[(&str, &str)] = &[
    ("google", include_str!("../../providers/google.toml")),
    ("apple", include_str!("../../providers/apple.toml")),
    ("facebook", include_str!("../../providers/facebook.toml")),
    ("amazon", include_str!("../../providers/amazon.toml")),
    ("oidc", include_str!("../../providers/oidc.toml")),
    ("saml", include_str!("../../providers/saml.toml")),
];

/// One provider kind's defaults (a `providers/<name>.toml` file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// The file's stem (`google`); set when loading, not written in the file.
    #[serde(skip)]
    pub name: String,
    pub provider_type: ProviderType,
    pub protocol: Protocol,
    /// The button text; `None` uses the provider's name in the pool.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `None` when the operator must give it (enterprise OIDC).
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub issuer_aliases: Vec<String>,
    #[serde(default)]
    pub endpoints: Endpoints,
    // The OAuth keys: a SAML preset has none of them (its settings come from the IdP's
    // metadata); the OAuth presets write every one (a unit test checks they do).
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub pkce: bool,
    #[serde(default)]
    pub response_mode: ResponseMode,
    #[serde(default)]
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// Empty for SAML (the NameID, or the provider's `user_id_attribute`, is the id).
    #[serde(default)]
    pub subject_claim: String,
    #[serde(default)]
    pub fetch_userinfo: bool,
    pub emails_verified: bool,
    /// Whether the provider's verified emails may link to existing users of any domain
    /// (a provider that owns its users' addresses or verifies them itself); otherwise
    /// only its `identifiers`' domains link.
    pub link_by_email: bool,
    #[serde(default)]
    pub quirks: Vec<Quirk>,
    /// Directory attribute -> upstream claim path.
    #[serde(default)]
    pub attribute_mapping: BTreeMap<String, String>,
}

/// A preset's `[endpoints]`: every protocol's together, as operators write them. For
/// OpenID Connect any endpoint left out is taken from the issuer's discovery document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default)]
pub struct Endpoints {
    pub authorize: Option<String>,
    pub token: Option<String>,
    pub userinfo: Option<String>,
    pub jwks: Option<String>,
    /// The profile API of a plain OAuth 2.0 provider (Facebook's Graph `/me`, Amazon's
    /// `/user/profile`), called with the access token.
    pub profile: Option<String>,
}

/// The credentials of a provider being resolved, sealed; only the one its protocol and
/// quirks read is kept.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub client_secret: Option<EncryptedSecret>,
    /// Apple's signing key (quirk `apple_client_secret`).
    pub apple_key: Option<AppleSigningKey>,
}

impl Preset {
    /// The protocol part of a provider with these (already overridden) values: the keys
    /// `protocol` reads, the credential it authenticates with (Apple's key with quirk
    /// `apple_client_secret`, else the client secret) and, for OpenID Connect, Google's
    /// `hosted_domain`.
    pub fn protocol_settings(
        &self,
        credentials: Credentials,
        hosted_domain: Option<String>,
    ) -> ProtocolSettings {
        let e = self.endpoints.clone();
        FlatProtocolSettings {
            protocol: self.protocol,
            issuer: self.issuer.clone(),
            issuer_aliases: self.issuer_aliases.clone(),
            authorize: e.authorize,
            token: e.token,
            userinfo: e.userinfo,
            jwks: e.jwks,
            profile: e.profile,
            scopes: self.scopes.clone(),
            pkce: self.pkce,
            response_mode: self.response_mode,
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            fetch_userinfo: self.fetch_userinfo,
            client_secret: credentials.client_secret,
            apple_key: credentials.apple_key,
            apple_client_secret: self.quirks.contains(&Quirk::AppleClientSecret),
            hosted_domain,
        }
        .into_settings()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("providers/{name}.toml: {message}")]
pub struct PresetError {
    pub name: String,
    pub message: String,
}

/// Parses one preset file.
pub fn parse(name: &str, text: &str) -> Result<Preset, PresetError> {
    let mut preset: Preset = toml::from_str(text).map_err(|e| PresetError {
        name: name.to_string(),
        message: e.message().to_string(),
    })?;
    preset.name = name.to_string();
    Ok(preset)
}

static PRESETS: LazyLock<Vec<Preset>> = LazyLock::new(|| {
    SOURCES
        .iter()
        // The files are compiled in and every one is parsed by a unit test, so a failure
        // here is a build defect, never something input can cause.
        .map(|(name, text)| parse(name, text).unwrap_or_else(|e| panic!("{e}")))
        .collect()
});

/// Every embedded preset, in a stable order.
pub fn all() -> &'static [Preset] {
    &PRESETS
}

/// The preset of this name (`google`, `apple`, `facebook`, `amazon`, `oidc`, `saml`).
pub fn get(name: &str) -> Option<&'static Preset> {
    all().iter().find(|p| p.name == name)
}

/// The preset names, for error messages.
pub fn names() -> Vec<&'static str> {
    SOURCES.iter().map(|(name, _)| *name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::attributes::STANDARD_ATTRIBUTES;

    #[test]
    fn every_preset_parses_and_is_coherent() {
        for (name, text) in SOURCES {
            let preset = parse(name, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&preset.name, name);
            if preset.protocol != Protocol::Saml {
                assert!(!preset.scopes.is_empty(), "{name}: scopes");
                assert!(!preset.subject_claim.is_empty(), "{name}: subject");
                // Every OAuth key is written, none left to its default.
                for key in [
                    "pkce",
                    "response_mode",
                    "token_endpoint_auth_method",
                    "fetch_userinfo",
                ] {
                    assert!(text.contains(&format!("\n{key} = ")), "{name}: {key}");
                }
            }
            for (attribute, path) in &preset.attribute_mapping {
                assert!(
                    STANDARD_ATTRIBUTES.contains(&attribute.as_str()),
                    "{name}: {attribute} is not a directory attribute"
                );
                assert!(!path.is_empty(), "{name}: {attribute} maps to nothing");
            }
            let urls = [
                &preset.endpoints.authorize,
                &preset.endpoints.token,
                &preset.endpoints.userinfo,
                &preset.endpoints.jwks,
                &preset.endpoints.profile,
            ];
            for url in urls.into_iter().flatten().chain(preset.issuer.as_ref()) {
                assert!(url.starts_with("https://"), "{name}: {url}");
                url::Url::parse(url).unwrap();
            }
            match preset.protocol {
                Protocol::Oauth2 => {
                    assert!(preset.issuer.is_none(), "{name}: issuer on OAuth 2.0");
                    assert!(preset.endpoints.authorize.is_some(), "{name}");
                    assert!(preset.endpoints.token.is_some(), "{name}");
                    assert!(preset.endpoints.profile.is_some(), "{name}");
                }
                Protocol::Oidc => {
                    if preset.issuer.is_some() {
                        assert!(preset.endpoints.jwks.is_some(), "{name}: jwks");
                    }
                }
                Protocol::Saml => {
                    assert!(preset.issuer.is_none(), "{name}: issuer on SAML");
                    assert!(preset.scopes.is_empty(), "{name}: scopes on SAML");
                    assert!(preset.subject_claim.is_empty(), "{name}: subject on SAML");
                    assert_eq!(preset.endpoints, Endpoints::default(), "{name}");
                }
            }
        }
        assert_eq!(all().len(), SOURCES.len());
        assert_eq!(
            names(),
            ["google", "apple", "facebook", "amazon", "oidc", "saml"]
        );
    }

    #[test]
    fn presets_carry_the_wire_facts() {
        let google = get("google").unwrap();
        assert_eq!(google.provider_type, ProviderType::Google);
        assert_eq!(
            google.issuer.as_deref(),
            Some("https://accounts.google.com")
        );
        assert_eq!(google.issuer_aliases, ["accounts.google.com"]);
        assert!(google.pkce);
        assert_eq!(google.quirks, [Quirk::GoogleHd]);

        let apple = get("apple").unwrap();
        assert_eq!(apple.provider_type, ProviderType::SignInWithApple);
        assert_eq!(apple.response_mode, ResponseMode::FormPost);
        assert!(!apple.pkce);
        assert!(apple.endpoints.userinfo.is_none());
        for q in [
            Quirk::AppleClientSecret,
            Quirk::AppleUserJson,
            Quirk::StringEmailVerified,
        ] {
            assert!(apple.quirks.contains(&q), "{q:?}");
        }

        let facebook = get("facebook").unwrap();
        assert_eq!(facebook.protocol, Protocol::Oauth2);
        assert_eq!(facebook.subject_claim, "id");
        assert_eq!(
            facebook.endpoints.profile.as_deref(),
            Some("https://graph.facebook.com/v19.0/me?fields=id,name,email,first_name,last_name,picture")
        );
        assert_eq!(facebook.attribute_mapping["picture"], "picture.data.url");
        assert_eq!(facebook.quirks, [Quirk::FacebookAppsecretProof]);

        let amazon = get("amazon").unwrap();
        assert_eq!(amazon.provider_type, ProviderType::LoginWithAmazon);
        assert_eq!(amazon.subject_claim, "user_id");
        assert_eq!(
            amazon.endpoints.profile.as_deref(),
            Some("https://api.amazon.com/user/profile")
        );

        let oidc = get("oidc").unwrap();
        assert_eq!(oidc.provider_type, ProviderType::Oidc);
        assert!(oidc.issuer.is_none());
        assert!(oidc.pkce && oidc.fetch_userinfo);
        assert_eq!(
            oidc.token_endpoint_auth_method,
            TokenEndpointAuthMethod::ClientSecretBasic
        );

        let saml = get("saml").unwrap();
        assert_eq!(saml.provider_type, ProviderType::Saml);
        assert_eq!(saml.protocol, Protocol::Saml);
        assert_eq!(
            saml.attribute_mapping["email"],
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
        );
        assert_eq!(
            saml.attribute_mapping["family_name"],
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"
        );
        assert!(!saml.link_by_email && !saml.emails_verified);

        // No provider's emails are taken as verified without its own claim: see the
        // comments in facebook.toml and amazon.toml.
        assert!(all().iter().all(|p| !p.emails_verified));
        // An enterprise IdP links by email only its own domains unless the operator says
        // otherwise; the social providers verify their consumers' addresses themselves.
        assert!(!oidc.link_by_email);
        assert!(all()
            .iter()
            .filter(|p| p.name != "oidc" && p.name != "saml")
            .all(|p| p.link_by_email));
        assert!(get("github").is_none());
    }

    #[test]
    fn a_bad_preset_is_reported_with_its_file() {
        let err = parse("broken", "protocol = \"saml\"").unwrap_err();
        assert!(
            err.to_string().starts_with("providers/broken.toml: "),
            "{err}"
        );
        let err = parse("broken", "provider_type = \"Google\"\nquirk = []").unwrap_err();
        assert!(err.to_string().contains("quirk"), "{err}");
    }
}
