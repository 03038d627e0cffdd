//! The `agent-strace` binary: hands argv to the library and exits with its code.

fn main() -> std::process::ExitCode {
    agent_strace::run(std::env::args_os())
}
