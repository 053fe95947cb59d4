//! Host tests of the authorization server: the flow, token exchange, registration, client authentication, consent.

mod authorization;
mod client_auth;
mod consent;
mod exchange;
mod registration;
