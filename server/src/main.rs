//! Parley's server binary: parse the config, set up logging, serve (or migrate, rebuild, export, import).

use anyhow::Context;
use clap::Parser;
use parley_server::config::{Cli, Command};
use parley_server::{Application, archive, startup};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    if cli.config.log_json {
        tracing_subscriber::fmt().with_env_filter(filter).json().init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }

    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(&cli.config).await?;
            tracing::info!("Parley is listening on http://{}", app.local_addr());
            app.run_until(shutdown_signal()).await
        }
        Command::RebuildProjections => {
            let position = startup::rebuild_projections(&cli.config.database_url).await?;
            println!("read models rebuilt up to position {position}");
            Ok(())
        }
        Command::Migrate => {
            parley_engine::db::open(&cli.config.database_url).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Export { file } => {
            let count = if file == "-" {
                archive::export(&cli.config.database_url, std::io::stdout().lock()).await?
            } else {
                let out = std::fs::File::create(&file).with_context(|| format!("Failed to create {file}"))?;
                archive::export(&cli.config.database_url, std::io::BufWriter::new(out)).await?
            };
            eprintln!("exported {count} events");
            Ok(())
        }
        Command::CreateAdmin { username } => {
            let password = match std::env::var("PARLEY_ADMIN_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    eprintln!("password for {username} (used only if the account is new):");
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("Failed to read the password")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let services = startup::Services::start(&cli.config.database_url).await?;
            let password = Some(password.as_str()).filter(|p| !p.is_empty());
            let created = services.engine.create_admin(&username, password).await;
            services.stop().await;
            if created? {
                println!("created {username}, an instance admin");
            } else {
                println!("{username} is an instance admin");
            }
            Ok(())
        }
        Command::ResetPassword { username } => {
            let services = startup::Services::start(&cli.config.database_url).await?;
            let link = services.engine.reset_link(&username).await;
            services.stop().await;
            let link = link?;
            let host = match cli.config.bind {
                std::net::IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_owned(),
                ip @ std::net::IpAddr::V4(_) => ip.to_string(),
                ip => format!("[{ip}]"),
            };
            println!("a link for {username} to set a new password (once, within 24 hours):");
            println!("http://{host}:{}{link}", cli.config.port);
            eprintln!("(behind a proxy, give the path {link} on the public address)");
            Ok(())
        }
        Command::Import { file } => {
            let input = std::fs::File::open(&file).with_context(|| format!("Failed to open {file}"))?;
            let count = archive::import(&cli.config.database_url, std::io::BufReader::new(input)).await?;
            println!("imported {count} events and rebuilt the read models");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
