//! `replay --format html` and `share` (issue 15), opened in a real browser: Chromium driven by
//! playwright-core through tests/browser/*.mjs (tests/common/browser.rs runs them).

use serde_json::json;

use crate::common::browser::Browser;

/// The harness notices what it is there to notice: a console error, an uncaught exception, a
/// dialog and a request to the network each show up in the problems it reports.
#[test]
fn the_browser_harness_reports_errors_dialogs_and_requests() {
    let Some(browser) = Browser::from_env("the_browser_harness_reports_errors_dialogs_and_requests")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!doctype html><title>bad page</title><p>hello</p>\
         <img src=\"http://example.invalid/x.png\">\
         <script>console.error('boom'); alert('hi'); setTimeout(() => { throw new Error('late') });</script>",
    )
    .unwrap();
    let shot = dir.path().join("bad.png");
    let seen = browser.run(
        "probe.mjs",
        &json!({"path": page, "screenshot": shot}),
    );
    assert_eq!(seen["title"], "bad page");
    assert!(seen["text"].as_str().unwrap().contains("hello"));
    let problems = &seen["problems"];
    assert!(
        problems["console"].as_array().unwrap().iter().any(|m| m.as_str().unwrap().contains("boom")),
        "{problems}"
    );
    assert!(
        problems["pageErrors"].as_array().unwrap().iter().any(|m| m.as_str().unwrap().contains("late")),
        "{problems}"
    );
    assert_eq!(problems["dialogs"], json!(["alert: hi"]));
    assert_eq!(problems["requests"], json!(["http://example.invalid/x.png"]));
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
}
