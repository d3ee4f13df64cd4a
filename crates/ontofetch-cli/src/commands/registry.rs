//! `ontofetch registry show|search|update|reset`.

use crate::cli::RegistryCommand;
use crate::output::emit;
use ontofetch_app::registry::{self, From};
use ontofetch_app::{AppError, Context};

/// Dispatches one `registry` subcommand.
pub fn run(ctx: &Context, cmd: &RegistryCommand) -> Result<(), AppError> {
    let o = &ctx.options;
    match cmd {
        RegistryCommand::Show { ids } if ids.len() > 1 => emit(o, &registry::show_many(ctx, ids)?),
        RegistryCommand::Show { ids } => emit(o, &registry::show(ctx, &ids[0])?),
        RegistryCommand::Search { text, limit } => emit(o, &registry::search(ctx, text, *limit)?),
        RegistryCommand::Reset => emit(o, &registry::reset(ctx)?),
        RegistryCommand::Update { from, file, label } => {
            let from = match (file, from) {
                (Some(path), _) => From::File(path),
                (None, url) => From::Url(url.as_deref().unwrap_or(registry::DEFAULT_URL)),
            };
            emit(o, &registry::update(ctx, from, label.as_deref())?)
        }
    }
    Ok(())
}
