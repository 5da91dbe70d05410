use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::RuleViolation;

/// The fixed set of grants. `Admin` implies every other one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    Admin,
    UserManager,
    CatalogManager,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown permission {0:?}; expected one of admin, user_manager, catalog_manager")]
pub struct UnknownPermission(pub String);

impl RuleViolation for UnknownPermission {
    fn code(&self) -> &'static str {
        "permission_unknown"
    }
}

impl Permission {
    pub const ALL: [Self; 3] = [Self::Admin, Self::UserManager, Self::CatalogManager];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::UserManager => "user_manager",
            Self::CatalogManager => "catalog_manager",
        }
    }

    const fn bit(self) -> u32 {
        match self {
            Self::Admin => 1,
            Self::UserManager => 2,
            Self::CatalogManager => 4,
        }
    }
}

impl FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| UnknownPermission(s.to_owned()))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's grants, stored as a small bit set so adapters keep it in one integer column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub const EMPTY: Self = Self(0);
    /// Bits that a stored value may hold; anything else is dropped when loading.
    const KNOWN: u32 = 0b111;

    #[must_use]
    pub fn from_bits(bits: u32) -> Self {
        Self(bits & Self::KNOWN)
    }

    #[must_use]
    pub fn bits(self) -> u32 {
        self.0
    }

    #[must_use]
    pub fn with(self, permission: Permission) -> Self {
        Self(self.0 | permission.bit())
    }

    /// Whether the set holds `permission` itself (not through `admin`).
    #[must_use]
    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// Whether the holder may act as `permission`: holding it, or being an admin.
    #[must_use]
    pub fn grants(self, permission: Permission) -> bool {
        self.contains(Permission::Admin) || self.contains(permission)
    }

    #[must_use]
    pub fn is_admin(self) -> bool {
        self.contains(Permission::Admin)
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// The names in a fixed order, for responses.
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
        }
        assert!("root".parse::<Permission>().is_err());
        assert!("Admin".parse::<Permission>().is_err());
    }

    #[test]
    fn admin_grants_everything_but_other_permissions_grant_only_themselves() {
        let admin = PermissionSet::EMPTY.with(Permission::Admin);
        assert!(admin.grants(Permission::UserManager) && admin.grants(Permission::CatalogManager));
        let manager = PermissionSet::EMPTY.with(Permission::UserManager);
        assert!(manager.grants(Permission::UserManager));
        assert!(!manager.grants(Permission::Admin) && !manager.grants(Permission::CatalogManager));
    }

    #[test]
    fn bits_round_trip_and_unknown_bits_are_dropped() {
        let set: PermissionSet = [Permission::Admin, Permission::CatalogManager].into_iter().collect();
        assert_eq!(PermissionSet::from_bits(set.bits()), set);
        assert_eq!(PermissionSet::from_bits(0xF0), PermissionSet::EMPTY);
        assert_eq!(set.names(), vec!["admin", "catalog_manager"]);
    }
}
