//! The emulator's state: the directory it serves, its signing keys, its clock, and the stores
//! of what it has handed out (codes and refresh tokens, SSO sessions, consents, provisioning
//! jobs). Every handler takes an `Arc<Emulator>`; this module depends on no handler.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use channels_protocol::clock::Clock;
use channels_protocol::cloud::Cloud;

use crate::authorize::Consents;
use crate::directory::{Directory, Tenant};
use crate::grant::Grants;
use crate::keys::{KeySet, SigningKey};
use crate::provisioning::{JobKey, Watermark};
use crate::session::SsoSessions;

/// The emulator's state: the directory, the signing keys, and what it has handed out.
pub struct Emulator {
    directory: Directory,
    keys: KeySet,
    origin: String,
    clock: Clock,
    clock_offset: AtomicU64,
    grants: Grants,
    sessions: SsoSessions,
    consents: Consents,
    /// Provisioning jobs and what each last sent (held across a cycle's requests).
    provisioning_jobs: tokio::sync::Mutex<HashMap<JobKey, Watermark>>,
    /// Users taken out of provisioning scope (unassigned from the app), by object id.
    out_of_scope: Mutex<BTreeSet<String>>,
}

impl Emulator {
    /// An emulator for `directory` whose authority is `origin` (`http://127.0.0.1:9400`).
    pub fn new(directory: impl Into<Directory>, origin: impl Into<String>, clock: Clock) -> Self {
        Self {
            directory: directory.into(),
            keys: KeySet::generate(),
            origin: origin.into(),
            clock,
            clock_offset: AtomicU64::new(0),
            grants: Grants::default(),
            sessions: SsoSessions::default(),
            consents: Consents::default(),
            provisioning_jobs: tokio::sync::Mutex::default(),
            out_of_scope: Mutex::default(),
        }
    }

    /// Every tenant served.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The first tenant (the demo's Contoso).
    pub fn tenant(&self) -> &Tenant {
        &self.directory.tenants[0]
    }

    /// The key that signs now (tests use it to sign tokens with one field changed).
    pub fn key(&self) -> Arc<SigningKey> {
        self.keys.signing()
    }

    /// The published keys, to roll them.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The origin that stands in for `https://login.microsoftonline.com`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The v2 issuer of the first tenant: `{origin}/{tenant id}/v2.0`.
    pub fn issuer(&self) -> String {
        self.issuer_of(&self.tenant().id)
    }

    /// The v2 issuer of `tenant_id` (`{tenantid}` for the multi-tenant template): the emulator's
    /// origin in the global cloud, the cloud's own form in another ([`Directory::cloud`]).
    pub fn issuer_of(&self, tenant_id: &str) -> String {
        self.directory.cloud.v2_issuer(&self.origin, tenant_id)
    }

    /// The v1 issuer of `tenant_id`: `https://sts.windows.net/{tid}/`, or the cloud's (External ID
    /// documents none; the global one stands in).
    pub fn v1_issuer_of(&self, tenant_id: &str) -> String {
        let cloud = self.directory.cloud;
        cloud.v1_issuer(tenant_id).or_else(|| Cloud::Global.v1_issuer(tenant_id)).unwrap_or_default()
    }

    /// Now, by the injected clock plus whatever [`Self::advance_clock`] moved it forward.
    pub fn now(&self) -> u64 {
        (self.clock)() + self.clock_offset.load(Ordering::SeqCst)
    }

    /// Moves the emulator's clock `seconds` forward (the `/_emulator/clock` control).
    pub(crate) fn advance_clock(&self, seconds: u64) {
        self.clock_offset.fetch_add(seconds, Ordering::SeqCst);
    }

    /// The codes and refresh tokens issued.
    pub(crate) fn grants(&self) -> &Grants {
        &self.grants
    }

    /// The open SSO sessions.
    pub(crate) fn sessions(&self) -> &SsoSessions {
        &self.sessions
    }

    /// The consents users gave on the consent page.
    pub(crate) fn consents(&self) -> &Consents {
        &self.consents
    }

    /// Provisioning jobs and what each last sent, one cycle of a job at a time.
    pub(crate) fn provisioning_jobs(&self) -> &tokio::sync::Mutex<HashMap<JobKey, Watermark>> {
        &self.provisioning_jobs
    }

    /// Users taken out of provisioning scope, by object id.
    pub(crate) fn out_of_scope(&self) -> &Mutex<BTreeSet<String>> {
        &self.out_of_scope
    }
}
