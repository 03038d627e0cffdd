//! Files an agent should not touch unless a policy names them: secrets, keys, credentials and
//! CI definitions. Flagged by `audit` with no policy at all, and denied by a policy in force
//! unless one of its allow patterns names the file itself (not just `src/**`).
//!
//! Gathered from the files secret scanners and the Python tool's README flag (read 2026-11-30):
//! dotenv files, private keys and certificates, SSH and cloud credentials, package-registry
//! tokens, and CI workflows (a write there runs code with the repository's secrets).

use crate::model::glob::Glob;

/// The patterns, as policy globs.
pub const PATTERNS: &[&str] = &[
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".ssh",
    ".gnupg",
    "**/.aws/credentials",
    "**/.aws/config",
    ".azure",
    "**/.config/gcloud",
    "**/.kube/config",
    "**/.docker/config.json",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".pgpass",
    "credentials.json",
    "secrets.json",
    "secrets.yml",
    "secrets.yaml",
    "*.tfstate",
    "**/.github/workflows",
    ".gitlab-ci.yml",
    ".circleci",
];

/// The compiled patterns.
pub fn globs() -> Vec<Glob> {
    PATTERNS.iter().map(|p| Glob::new(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::globs;

    fn sensitive(rel: &str) -> bool {
        globs()
            .iter()
            .any(|g| g.matches(Some(rel), &format!("/p/{rel}")))
    }

    #[test]
    fn secrets_and_workflows_are_sensitive() {
        for path in [
            ".env",
            ".env.local",
            "config/prod.env",
            "certs/server.pem",
            "tls.key",
            "/home/u/.ssh/id_rsa",
            ".ssh/config",
            ".aws/credentials",
            ".netrc",
            ".github/workflows/ci.yml",
        ] {
            assert!(sensitive(path), "{path}");
        }
        for path in [
            "src/env.rs",
            "README.md",
            "keys.md",
            ".github/CODEOWNERS",
            "environment.ts",
        ] {
            assert!(!sensitive(path), "{path}");
        }
    }
}
