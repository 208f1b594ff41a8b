//! The signed management API of issue 15, driven by the official AWS SDK for Rust:
//! [`pools`] (CreateUserPool ... GetUserPoolMfaConfig), [`clients`], [`domains`],
//! [`resource_servers`], [`providers`] (each kind of identity provider), [`numbers`]
//! (NumberAttributeConstraints enforced on every attribute write), and
//! [`lifecycle`] (a whole pool built through the API, used through the hosted UI, and torn
//! down), and [`concurrent`] (one pool changed from two nodes at once).

mod clients;
mod concurrent;
mod domains;
mod lifecycle;
mod numbers;
mod pools;
mod providers;
mod resource_servers;
// issue 17: Set/DescribeRiskConfiguration.
mod risk_config;
