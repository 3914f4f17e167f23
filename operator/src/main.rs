//! The `clmb-operator` binary: print the CRD or RBAC rules, render a stack, or run.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// Runs ClmbStacks on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "clmb-operator", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the ClmbStack CustomResourceDefinition as YAML.
    Crd,
    /// Print the ClusterRole rules the operator needs as YAML.
    Rbac,
    /// Print every object the operator would create for the ClmbStacks in a file.
    Render {
        /// A YAML file with one or more ClmbStack documents; `-` reads standard input.
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
    },
    /// Run the operator against the cluster of the current kubeconfig or service account.
    Run(clmb_operator::run::RunArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => print!("{}", clmb_operator::crd::crd_yaml()?),
        Command::Rbac => print!("{}", clmb_operator::rbac::rules_yaml()?),
        Command::Render { file } => {
            let input = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
                    .context("failed to read standard input")?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("failed to read {}", file.display()))?
            };
            print!("{}", clmb_operator::render::render(&input)?);
        }
        Command::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("failed to start the async runtime")?;
            runtime.block_on(clmb_operator::run::run(args))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
