#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs the checks
# in CI order (format, lints, tests). `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Python agent-strace (the tool we replace), for the store compatibility tests.
venv="$PWD/target/pyvenv"
if [ ! -x "$venv/bin/agent-strace" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check agent-strace==0.103.0
fi
export AGENT_STRACE_PYTHON="$venv/bin/agent-strace"

# Real MCP clients (the Python SDK; the TypeScript SDK comes with the servers) and real MCP
# servers (npm), for the proxy tests.
if ! "$venv/bin/python" -c "import mcp" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "mcp==2.3.0"
fi
export AGENT_STRACE_MCP_PYTHON="$venv/bin/python"
# The TypeScript SDK client comes with them.
if [ ! -f target/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js ] ||
   [ ! -f target/mcp/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js ]; then
  npm install --silent --no-audit --no-fund --prefix target/mcp \
    @modelcontextprotocol/server-everything@2026.8.31 \
    @modelcontextprotocol/server-filesystem@2026.8.31
fi
export AGENT_STRACE_MCP_SERVERS="$PWD/target/mcp/node_modules"

# ccusage, for the cross-check of token totals on the corpus.
if [ ! -x target/ccusage/node_modules/.bin/ccusage ]; then
  npm install --silent --no-audit --no-fund --prefix target/ccusage ccusage@20.0.24
fi
export AGENT_STRACE_CCUSAGE="$PWD/target/ccusage/node_modules/.bin/ccusage"

# The real Codex CLI, driven offline against docs/agents/fake_openai_responses.py by the Codex
# hook test (tests/agent_codex.rs).
if [ ! -x target/agentcli/codex/node_modules/.bin/codex ]; then
  npm install --silent --no-audit --no-fund --prefix target/agentcli/codex @openai/codex@0.171.0
fi
export AGENT_STRACE_CODEX="$PWD/target/agentcli/codex/node_modules/.bin/codex"

# Gemini CLI, for the test that drives the real agent against a fake model endpoint
# (tests/agent_gemini.rs, docs/agents.md section 7).
if [ ! -x target/agentcli/gemini/node_modules/.bin/gemini ]; then
  npm install --silent --no-audit --no-fund --prefix target/agentcli/gemini @google/gemini-cli@0.61.0
fi
export AGENT_STRACE_GEMINI_CLI="$PWD/target/agentcli/gemini/node_modules/.bin/gemini"

# GitHub Copilot CLI, driven offline against a fake model endpoint by the hook tests
# (docs/agents.md section 7); its test is skipped, saying so, when it cannot be installed.
if [ ! -x target/agentcli/copilot/node_modules/@github/copilot-linux-x64/copilot ]; then
  npm install --silent --no-audit --no-fund --prefix target/agentcli/copilot @github/copilot@1.0.102 ||
    echo "Copilot CLI 1.0.102 could not be installed: its test will be skipped"
fi

# Arize Phoenix, the OTLP backend the export tests send traces to and read back (issue 14).
# Heavy (about 850 MB), so it lives in its own venv and is installed once.
if [ ! -x target/phoenix/bin/phoenix ]; then
  python3 -m venv target/phoenix
  target/phoenix/bin/pip install --quiet --disable-pip-version-check arize-phoenix==20.26.1
fi
export AGENT_STRACE_PHOENIX="$PWD/target/phoenix/bin/phoenix"

# Debian's Chromium, driven headless by playwright-core for the HTML tests (issue 15), and
# strace, which holds back one system call of the binary to stall it mid-swap in the tests of
# a hook writing while its session's folder is moved (tests/keeping.rs, tests/retention.rs).
if [ ! -x /usr/bin/chromium ] || ! command -v strace >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium strace
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium strace
  fi
fi
export AGENT_STRACE_CHROMIUM=/usr/bin/chromium
if [ ! -f target/browser/node_modules/playwright-core/package.json ]; then
  npm install --silent --no-audit --no-fund --prefix target/browser playwright-core@1.65.1
fi
export AGENT_STRACE_PLAYWRIGHT="$PWD/target/browser/node_modules/playwright-core"

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
