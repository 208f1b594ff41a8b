//! Threat protection (issue 17), over real HTTP.

mod events;
mod risk;
