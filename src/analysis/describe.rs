//! The one thing worth showing about a tool call or result on a single line.

use serde_json::Value;

/// The meaningful argument of a call: the command, the path, the pattern, the URL.
pub fn call_argument(tool: &str, arguments: &Value) -> Option<String> {
    let field = |key: &str| {
        arguments
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let text = match tool {
        "Bash" | "BashOutput" => field("command").map(|c| format!("$ {c}")),
        "Read" | "Write" | "Edit" | "MultiEdit" => field("file_path").map(str::to_owned),
        "NotebookEdit" | "NotebookRead" => field("notebook_path").map(str::to_owned),
        "Glob" => field("pattern").map(|p| match field("path") {
            Some(path) => format!("{p} in {path}"),
            None => p.to_owned(),
        }),
        "Grep" => field("pattern").map(|p| match field("path") {
            Some(path) => format!("/{p}/ in {path}"),
            None => format!("/{p}/"),
        }),
        "WebFetch" => field("url").map(str::to_owned),
        "WebSearch" => field("query").map(str::to_owned),
        "Task" | "Agent" => field("description")
            .or_else(|| field("prompt"))
            .map(|d| format!("\"{d}\"")),
        "TodoWrite" => arguments
            .get("todos")
            .and_then(Value::as_array)
            .map(|t| format!("{} todos", t.len())),
        "LS" => field("path").map(str::to_owned),
        _ => None,
    };
    text.or_else(|| generic_argument(arguments))
}

/// For tools we do not know (MCP tools among them): the first string argument whose name says
/// what it is, else any first string, else the arguments as compact JSON.
fn generic_argument(arguments: &Value) -> Option<String> {
    const TELLING: [&str; 9] = [
        "command",
        "path",
        "file_path",
        "url",
        "query",
        "pattern",
        "name",
        "prompt",
        "text",
    ];
    let map = arguments.as_object()?;
    if map.is_empty() {
        return None;
    }
    for key in TELLING {
        if let Some(s) = map
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            return Some(s.to_owned());
        }
    }
    map.values()
        .find_map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
        .or_else(|| Some(arguments.to_string()))
}

/// A one-line gist of a result, when it has a telling first line (command output, an error).
pub fn result_gist(result: &Value) -> Option<String> {
    let pick = |text: &str, last: bool| {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if last {
            lines.next_back()
        } else {
            lines.next()
        }
        .map(str::to_owned)
    };
    match result {
        Value::String(s) => pick(s, false),
        Value::Object(map) => {
            let field = |k: &str| {
                map.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
            };
            // Command output ends with its verdict ("24 passed in 0.81s"): show the last line.
            if let Some(out) = field("stdout").or_else(|| field("stderr")) {
                return pick(out, true);
            }
            field("error")
                .or_else(|| field("output"))
                .or_else(|| field("result"))
                .map(str::to_owned)
                .or_else(|| map.get("content").and_then(content_text))
                .and_then(|t| pick(&t, false))
        }
        Value::Array(_) => content_text(result).and_then(|t| pick(&t, false)),
        _ => None,
    }
}

/// The text of an MCP-style content array (`[{"type":"text","text":...}]`).
fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) => blocks
            .iter()
            .find_map(|b| b.get("text").and_then(Value::as_str).map(str::to_owned)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_tools_show_their_telling_argument() {
        assert_eq!(
            call_argument("Bash", &json!({"command": "ls"})).unwrap(),
            "$ ls"
        );
        assert_eq!(
            call_argument("Read", &json!({"file_path": "/a.rs"})).unwrap(),
            "/a.rs"
        );
        assert_eq!(
            call_argument("Glob", &json!({"pattern": "**/*.rs"})).unwrap(),
            "**/*.rs"
        );
        assert_eq!(
            call_argument(
                "mcp__github__get_issue",
                &json!({"owner": "o", "issue_number": 3})
            )
            .unwrap(),
            "o"
        );
        assert_eq!(call_argument("X", &json!({"n": 1})).unwrap(), "{\"n\":1}");
        assert_eq!(call_argument("X", &json!({})), None);
    }

    #[test]
    fn results_show_their_first_line() {
        assert_eq!(
            result_gist(&json!({"stdout": "\n....\n75 passed\n", "stderr": ""})).unwrap(),
            "75 passed"
        );
        assert_eq!(
            result_gist(&json!([{"type": "text", "text": "hi"}])).unwrap(),
            "hi"
        );
        assert_eq!(result_gist(&json!({"type": "text", "file": {}})), None);
    }
}
