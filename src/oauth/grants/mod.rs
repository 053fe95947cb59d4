//! What a person's approval becomes: the checked request ([`approval`], [`sealed_request`]),
//! the code and redirect ([`consent`]), grants and tokens ([`grant`]), the token endpoint's grant
//! types ([`token_grants`]) and tool groups as scopes ([`tool_groups`]).
//! May use the rest of `oauth`, `base`, `crypto`, `platform` and `store`.

pub mod approval;
pub mod consent;
pub mod grant;
pub mod sealed_request;
pub mod token_grants;
pub mod tool_groups;
