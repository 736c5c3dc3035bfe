//! The frontend process BuildKit starts: options from the environment, the gateway on
//! stdin/stdout, one build. stdout belongs to the gRPC stream; never print to it.

use std::process::ExitCode;

use pyslim_frontend::convert;
use pyslim_frontend::gateway::Gateway;
use pyslim_frontend::options::Options;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut gateway = match Gateway::connect_stdio().await {
        Ok(gateway) => gateway,
        Err(error) => {
            // stderr reaches only the daemon's log: BuildKit could not be talked to at all.
            eprintln!("pyslim: cannot reach BuildKit's gateway on stdin/stdout: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match Options::from_env() {
        Ok(options) => convert::build(&mut gateway, &options).await,
        Err(error) => Err(error.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => match gateway.return_error(failure.status()).await {
            // BuildKit now holds the error and shows it; the process itself succeeded.
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!(
                    "pyslim: build failed ({failure:?}) and the error could not be returned: {error}"
                );
                ExitCode::FAILURE
            }
        },
    }
}
