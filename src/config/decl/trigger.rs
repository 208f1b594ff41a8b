//! `[pools.triggers]` entries: a webhook URL (`pre_sign_up = "https://..."`), or a table
//! with the pre token generation trigger's event version
//! (`pre_token_generation = { url = "https://...", version = "V2_0" }`, Cognito's
//! `PreTokenGenerationConfig`).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::core::model::{PreTokenVersion, TriggerKind};

/// `[pools.triggers]`: the declared triggers by key, and `sender_key`, the RSA public key
/// (PEM `-----BEGIN PUBLIC KEY-----`, or an RSA JWK) the custom email and SMS senders'
/// codes are encrypted to (Cognito's `KMSKeyID`; see `crate::core::triggers::jwe`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct TriggersDecl {
    #[serde(default)]
    pub sender_key: Option<String>,
    #[serde(flatten)]
    pub urls: BTreeMap<TriggerKind, TriggerDecl>,
}

impl Deref for TriggersDecl {
    type Target = BTreeMap<TriggerKind, TriggerDecl>;

    fn deref(&self) -> &Self::Target {
        &self.urls
    }
}

/// One declared trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerDecl {
    pub url: String,
    /// Only for `pre_token_generation` (check-config refuses it elsewhere); `V1_0` when
    /// omitted, as Cognito's default.
    pub version: Option<PreTokenVersion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    url: String,
    #[serde(default)]
    version: Option<PreTokenVersion>,
}

impl<'de> Deserialize<'de> for TriggerDecl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> Visitor<'de> for Entry {
            type Value = TriggerDecl;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a webhook URL, or { url = \"https://...\", version = \"V2_0\" } \
                     (version: V1_0, V2_0 or V3_0)",
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<TriggerDecl, E> {
                Ok(TriggerDecl {
                    url: v.to_string(),
                    version: None,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TriggerDecl, A::Error> {
                let t = Table::deserialize(MapAccessDeserializer::new(map))?;
                Ok(TriggerDecl {
                    url: t.url,
                    version: t.version,
                })
            }
        }
        d.deserialize_any(Entry)
    }
}
