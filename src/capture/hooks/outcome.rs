//! What a hook answers the agent, as a value the recorder returns and `cli/hook.rs` prints in
//! the agent's own output format.

/// The hook's answer to the agent. Today a tracer only watches, so it always allows; policies
/// (the next step) add a denial, and only the renderer in `cli/hook.rs` learns each agent's way
/// of saying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Let the agent go on as if no hook had run: print nothing, exit 0.
    Allow,
}
