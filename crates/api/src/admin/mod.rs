//! The admin tools of `channels-api`: `check-token`, `manifest`, `preview`, `members` and
//! `scim-token`. Each returns its report as text, so the binary only prints it and tests read it.

pub mod manifest;
pub mod members;
pub mod output;
pub mod preview;
pub mod scim_tokens;
pub mod token;

pub use manifest::manifest;
pub use members::{members, members_command, MembersAction};
pub use output::{tenant_argument, AdminError, Printed};
pub use preview::{
    preview, preview_command, provisioning_of, provisioning_warnings, warn_of_provisioned_names, PreviewOf, Previewed,
};
pub use scim_tokens::{scim_token, ScimTokenAction};
pub use token::{check_token, check_token_command, unverified_claims};
