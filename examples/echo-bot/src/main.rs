//! Runs the example bot with its settings from the environment (see the library's first lines).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parley_echo_bot::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("echo-bot: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!("echo-bot: connecting to {}", config.base);
    match parley_echo_bot::run(config, || println!("echo-bot: ready")).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo-bot: {e:#}");
            ExitCode::FAILURE
        }
    }
}
