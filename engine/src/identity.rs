//! Who is calling: staff with permissions from roles, and participants scoped to one
//! session, both carried by signed, expiring tokens (JWT, HS256).

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use thiserror::Error;
use vitrine_persistence::model::{ParticipantId, SessionId, TenantId, UserId};

/// A permission module. Roles are sets of modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    /// Take part in calls as a shopper; see sessions.
    VideoCalls,
    /// Read session lists, event logs, transcripts and reports.
    Analytics,
    /// Manage shoppers, catalog and tenant settings.
    Settings,
}

impl Module {
    /// Every module.
    pub const ALL: [Module; 3] = [Module::VideoCalls, Module::Analytics, Module::Settings];
}

/// The built-in roles and the modules each grants.
pub const ROLES: &[(&str, &[Module])] = &[
    (
        "admin",
        &[Module::VideoCalls, Module::Analytics, Module::Settings],
    ),
    ("manager", &[Module::VideoCalls, Module::Analytics]),
    ("shopper", &[Module::VideoCalls]),
    ("analyst", &[Module::Analytics]),
];

/// The modules granted by `roles`, or the first unknown role name.
pub fn modules_of(roles: &[String]) -> Result<BTreeSet<Module>, String> {
    let mut modules = BTreeSet::new();
    for role in roles {
        let (_, granted) = ROLES
            .iter()
            .find(|(name, _)| name == role)
            .ok_or_else(|| role.clone())?;
        modules.extend(granted.iter().copied());
    }
    Ok(modules)
}

/// A participant's role in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The salesperson running the call.
    Shopper,
    /// The customer being served.
    Customer,
    /// Watches the call (a supervisor, say) without selling.
    Observer,
}

impl Role {
    /// Whether this role sees staff-only events.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Customer)
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Shopper => "shopper",
            Role::Customer => "customer",
            Role::Observer => "observer",
        }
    }
}

/// What a verified token says about its bearer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A staff user of a tenant.
    Staff(StaffPrincipal),
    /// A participant of one session (customers, invited guests).
    Participant(ParticipantPrincipal),
}

/// A staff user and their permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffPrincipal {
    /// Tenant of the user.
    pub tenant_id: TenantId,
    /// The user.
    pub user_id: UserId,
    /// Display name.
    pub name: String,
    /// Granted modules.
    pub modules: BTreeSet<Module>,
}

impl StaffPrincipal {
    /// Whether the user holds `module`.
    pub fn can(&self, module: Module) -> bool {
        self.modules.contains(&module)
    }

    /// The participant id this user has in every session they join.
    pub fn participant_id(&self) -> ParticipantId {
        ParticipantId::new(format!("par_{}", self.user_id))
    }
}

/// A participant token's bearer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantPrincipal {
    /// Tenant of the session.
    pub tenant_id: TenantId,
    /// The only session this token opens.
    pub session_id: SessionId,
    /// The participant.
    pub participant_id: ParticipantId,
    /// Role in the session.
    pub role: Role,
    /// Display name.
    pub name: String,
}

impl Principal {
    /// The tenant the bearer belongs to.
    pub fn tenant_id(&self) -> &TenantId {
        match self {
            Principal::Staff(s) => &s.tenant_id,
            Principal::Participant(p) => &p.tenant_id,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// User id (staff) or participant id.
    sub: String,
    /// Tenant.
    tid: String,
    /// `staff` or `participant`.
    typ: String,
    /// Display name.
    name: String,
    /// Staff modules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mods: Vec<Module>,
    /// Participant's session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    /// Participant's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
    iat: i64,
    exp: i64,
}

/// Why a token was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    /// The token is past its expiry.
    #[error("token expired")]
    Expired,
    /// The token is malformed, forged or of an unknown kind.
    #[error("invalid token")]
    Invalid,
}

/// The signing key is too short to be safe.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("the token signing key must be at least 32 bytes")]
pub struct WeakSecret;

/// A freshly minted token.
#[derive(Clone, Debug, Serialize)]
pub struct IssuedToken {
    /// The bearer token.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Mints and verifies tokens with the deployment's signing key.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    static_admin: Option<(String, StaffPrincipal)>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenIssuer { .. }")
    }
}

/// Longest lifetime of any token this deployment issues.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

impl TokenIssuer {
    /// Smallest signing key accepted, in bytes.
    pub const MIN_SECRET_BYTES: usize = 32;

    /// Builds an issuer over `secret`, which must be at least 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, WeakSecret> {
        if secret.len() < Self::MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret).map_err(|_| WeakSecret)?,
            decoding: DecodingKey::from_secret(secret).map_err(|_| WeakSecret)?,
            validation,
            static_admin: None,
        })
    }

    /// Also accepts `token` verbatim as `admin`'s token (the `VITRINE_ADMIN_TOKEN` setting).
    pub fn with_static_admin(mut self, token: String, admin: StaffPrincipal) -> Self {
        self.static_admin = Some((token, admin));
        self
    }

    /// Mints a staff token.
    pub fn issue_staff(&self, staff: &StaffPrincipal, ttl: Duration) -> IssuedToken {
        self.issue(
            Claims {
                sub: staff.user_id.to_string(),
                tid: staff.tenant_id.to_string(),
                typ: "staff".into(),
                name: staff.name.clone(),
                mods: staff.modules.iter().copied().collect(),
                sid: None,
                role: None,
                iat: 0,
                exp: 0,
            },
            ttl,
        )
    }

    /// Mints a token that opens one session as one participant.
    pub fn issue_participant(&self, p: &ParticipantPrincipal, ttl: Duration) -> IssuedToken {
        self.issue(
            Claims {
                sub: p.participant_id.to_string(),
                tid: p.tenant_id.to_string(),
                typ: "participant".into(),
                name: p.name.clone(),
                mods: Vec::new(),
                sid: Some(p.session_id.to_string()),
                role: Some(p.role),
                iat: 0,
                exp: 0,
            },
            ttl,
        )
    }

    fn issue(&self, mut claims: Claims, ttl: Duration) -> IssuedToken {
        let now = Utc::now();
        let ttl = ttl.min(MAX_TOKEN_TTL);
        let expires_at =
            now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
        claims.iat = now.timestamp();
        claims.exp = expires_at.timestamp();
        // unwrap: HMAC signing of serialisable claims cannot fail.
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing never fails");
        IssuedToken { token, expires_at }
    }

    /// Verifies a bearer token.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        if let Some((admin_token, admin)) = &self.static_admin {
            if bool::from(admin_token.as_bytes().ct_eq(token.as_bytes())) {
                return Ok(Principal::Staff(admin.clone()));
            }
        }
        // Refuse absurd inputs before any parsing work.
        if token.is_empty() || token.len() > 8 * 1024 {
            return Err(TokenError::Invalid);
        }
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        let c = data.claims;
        match c.typ.as_str() {
            "staff" => Ok(Principal::Staff(StaffPrincipal {
                tenant_id: TenantId::new(c.tid),
                user_id: UserId::new(c.sub),
                name: c.name,
                modules: c.mods.into_iter().collect(),
            })),
            "participant" => Ok(Principal::Participant(ParticipantPrincipal {
                tenant_id: TenantId::new(c.tid),
                session_id: SessionId::new(c.sid.ok_or(TokenError::Invalid)?),
                participant_id: ParticipantId::new(c.sub),
                role: c.role.ok_or(TokenError::Invalid)?,
                name: c.name,
            })),
            _ => Err(TokenError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> TokenIssuer {
        TokenIssuer::new(&[7u8; 32]).unwrap()
    }

    fn staff() -> StaffPrincipal {
        StaffPrincipal {
            tenant_id: TenantId::new("demo"),
            user_id: UserId::new("usr_1"),
            name: "Ana".into(),
            modules: [Module::VideoCalls].into_iter().collect(),
        }
    }

    #[test]
    fn staff_tokens_round_trip_with_their_modules() {
        let issued = issuer().issue_staff(&staff(), Duration::from_secs(60));
        assert_eq!(
            issuer().verify(&issued.token),
            Ok(Principal::Staff(staff()))
        );
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let issued = TokenIssuer::new(&[8u8; 32])
            .unwrap()
            .issue_staff(&staff(), Duration::from_secs(60));
        assert_eq!(issuer().verify(&issued.token), Err(TokenError::Invalid));
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let mut claims_issuer = issuer();
        claims_issuer.validation.leeway = 0;
        let mut c = Claims {
            sub: "usr_1".into(),
            tid: "demo".into(),
            typ: "staff".into(),
            name: "x".into(),
            mods: vec![],
            sid: None,
            role: None,
            iat: 0,
            exp: 0,
        };
        c.exp = Utc::now().timestamp() - 120;
        let token = encode(&Header::new(Algorithm::HS256), &c, &claims_issuer.encoding).unwrap();
        assert_eq!(claims_issuer.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn garbage_and_huge_tokens_are_invalid_without_panicking() {
        for t in ["", "a.b.c", "😀.😀.😀", &"x".repeat(100_000)] {
            assert_eq!(issuer().verify(t), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn the_static_admin_token_maps_to_the_admin() {
        let i = issuer().with_static_admin("s3cret-admin-token".into(), staff());
        assert_eq!(
            i.verify("s3cret-admin-token"),
            Ok(Principal::Staff(staff()))
        );
        assert_eq!(i.verify("s3cret-admin-tokeN"), Err(TokenError::Invalid));
    }

    #[test]
    fn unknown_roles_are_named() {
        assert_eq!(
            modules_of(&["shopper".into(), "wizard".into()]),
            Err("wizard".into())
        );
        assert_eq!(
            modules_of(&["manager".into()]).unwrap(),
            [Module::VideoCalls, Module::Analytics]
                .into_iter()
                .collect()
        );
    }
}
