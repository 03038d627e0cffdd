//! What a hook answers the agent, as a value the recorder returns and `cli/hook.rs` prints in
//! the agent's own output format.

/// The hook's answer to the agent. Only the renderer in `cli/hook.rs` learns each agent's way of
/// saying it (Claude Code's JSON today; Cursor, Gemini CLI and Codex add a printer there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Let the agent go on as if no hook had run: print nothing, exit 0.
    Allow,
    /// The policy in force denies the call before it runs.
    Deny {
        /// What the model is told: the rule, the policy file, what to do instead.
        reason: String,
        /// The event that asked (a pre-tool hook, a permission request, a skill's shell
        /// command): each is answered in its own words.
        event: super::HookEvent,
    },
}
