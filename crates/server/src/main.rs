use std::io::BufRead;
use std::process::ExitCode;

use clap::Parser;
use hexgate_migrations::{Migrations, Migrator};
use hexgate_server::cli::{Cli, Command, KeysAction, MigrateAction};
use hexgate_server::config::{Config, Vars};
use hexgate_server::startup::{self, Application};
use hexgate_server::telemetry;
use secrecy::SecretString;

/// jemalloc, not glibc's malloc: every password hash allocates and frees a 19 MiB Argon2 block,
/// and glibc keeps such blocks in its heap once its dynamic mmap threshold has risen, where the
/// small allocations made between hashes fragment them: the process grew by megabytes per hash
/// and never gave them back. jemalloc serves blocks this large from an arena that returns them to
/// the OS as soon as they are freed. Measured in docs/benchmarks.md; chosen in docs/decisions.md.
#[cfg(not(any(feature = "system-allocator", feature = "mimalloc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(all(feature = "mimalloc", not(feature = "system-allocator")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        println!("{}", hexgate_actix_http::openapi_document().await);
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_vars(&Vars::from_process()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("hexgate: {err}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = telemetry::init_with(config.log_format, &config.observability);
    match run(cli.command.unwrap_or(Command::Serve), &config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "hexgate failed");
            eprintln!("hexgate: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Serve => Application::build(config).await?.run_until_stopped().await?,
        Command::Migrate { action } => {
            let pools = startup::database(config).await?;
            let db = pools.primary();
            match action {
                MigrateAction::Up => Migrator::up(db, None).await?,
                MigrateAction::Down { steps } => Migrator::down(db, Some(steps)).await?,
                MigrateAction::Status => {
                    for migration in Migrator::get_migration_with_status(db).await? {
                        println!("{}\t{}", migration.name(), migration.status());
                    }
                }
            }
        }
        Command::CreateSuperuser { email, username } => {
            let password = match std::env::var("HEXGATE_SUPERUSER_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => {
                    eprintln!("password (one line on standard input):");
                    std::io::stdin().lock().lines().next().transpose()?.unwrap_or_default()
                }
            };
            let services = startup::wire(config).await?;
            let outcome =
                startup::ensure_superuser(&services.users, &email, &username, &SecretString::from(password), true)
                    .await?;
            println!("{outcome:?}");
        }
        Command::MfaReset { login } => {
            let services = startup::wire(config).await?;
            let user = services.state.mfa.reset_as_operator(&login).await?;
            println!("second factors of {user} removed");
        }
        Command::Keys { action } => {
            let services = startup::wire(config).await?;
            let printed = match action {
                KeysAction::Rotate => {
                    let jwk = services.signing_keys.rotate_as_operator().await?;
                    serde_json::json!({"kty": jwk.kty, "crv": jwk.crv, "x": jwk.x, "kid": jwk.kid, "use": jwk.key_use, "alg": jwk.alg})
                }
                KeysAction::List => serde_json::Value::Array(
                    services
                        .signing_keys
                        .list_as_operator()
                        .await?
                        .into_iter()
                        .map(|k| {
                            serde_json::json!({"kid": k.kid, "alg": k.alg, "created_at": k.created_at,
                                "rotated_at": k.rotated_at, "retired_at": k.retired_at, "active": k.active})
                        })
                        .collect(),
                ),
            };
            println!("{}", serde_json::to_string_pretty(&printed)?);
        }
        Command::Openapi => unreachable!("handled before configuration is read"),
    }
    Ok(())
}
