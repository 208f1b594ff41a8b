//! Threat protection (issue 17), over real HTTP.

mod compromised;
mod events;
mod risk;
