use clap::{Parser, Subcommand};

/// hexgate: a users-and-auth REST API service.
#[derive(Debug, Parser)]
#[command(name = "hexgate", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Create an admin, or grant admin to an existing account with that e-mail. The password is
    /// read from HEXGATE_SUPERUSER_PASSWORD or, if unset, from the first line of standard input.
    CreateSuperuser {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "admin")]
        username: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Remove every second factor (TOTP, recovery codes, passkeys) of the user with this username
    /// or e-mail, for one who lost them all when no admin can do it from the API (docs/mfa.md).
    MfaReset {
        #[arg(long)]
        login: String,
    },
    /// Rotate or list the access-token signing keys (see docs/tokens.md).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Make a new signing key; it signs from now on (every instance within KEY_CACHE_SECONDS),
    /// the old one verifies until its last token has expired. Prints the new public JWK.
    Rotate,
    /// Print every signing key (no private material), newest first, as JSON.
    List,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the latest migrations.
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}
