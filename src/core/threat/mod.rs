//! Threat protection (issue 17), Cognito's advanced security done on this machine:
//! - [`events`]: the auth event log, written in batches off the request path;
//! - [`compromised`]: compromised-password checks (the common-password list and the
//!   operator's breached password corpus);
//! - risk scoring of sign-ins and the per-level responses.
//!
//! A pool asks for it in [`ThreatProtection`](crate::core::model::ThreatProtection).

pub mod compromised;
pub mod events;
pub mod geo;
pub mod record;
pub mod review;
pub mod risk;

pub use events::{AuthEvents, EventContext};
pub use geo::GeoIp;
pub use record::{outcome_of, Step, Subject};
pub use review::{FeedbackProvider, ReviewError};
pub use risk::Risk;
