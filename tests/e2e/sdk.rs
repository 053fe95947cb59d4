//! The official MCP TypeScript SDK as the client (`tests/sdk-client/agent.mjs`): discovery from
//! the 401, dynamic registration, our consent page (this test is the person's browser), the
//! Attio sign-in at the mock, the code exchange with PKCE, `tools/list`, and a read and a write
//! call whose effect lands in the mock — once per protocol revision the SDK speaks; on the first,
//! every tool once, each result checked by the SDK against the tool's outputSchema.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::*;

/// The revisions `@modelcontextprotocol/sdk` 1.32 speaks that we serve (it has no 2026-07-28
/// support; that revision is covered by the conformance suite's `server-stateless`).
const REVISIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];

fn run_agent(stack: &Stack, revision: &str, every_tool: bool) -> Value {
    let agent = repo_root().join("tests/sdk-client/agent.mjs");
    let mcp_url = format!("{}/mcp", stack.worker.client.base);
    let mut args: Vec<&std::ffi::OsStr> = vec![agent.as_os_str(), mcp_url.as_ref(), revision.as_ref()];
    if every_tool {
        args.push("--every-tool".as_ref());
    }
    let mut program = NodeProgram::start(&args);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut result = None;
    while let Some(line) = program.next_line(deadline) {
        if let Some(url) = line.strip_prefix("AUTHORIZE ") {
            let to_client = stack.approve_in_browser(url, "write");
            assert!(to_client.starts_with("http://127.0.0.1:"), "{to_client}");
            // Deliver the code to the agent's loopback callback, as the browser would.
            let delivered = TestClient::new("").request("GET", &to_client, &[], None);
            assert_eq!(delivered.status, 200, "{}", delivered.body);
        } else if let Some(json) = line.strip_prefix("RESULT ") {
            result = Some(serde_json::from_str::<Value>(json).expect("RESULT is JSON"));
        }
    }
    let status = program.wait(Duration::from_secs(10));
    let report = result.unwrap_or_else(|| panic!("the agent printed no RESULT:\n{}", program.text()));
    assert!(status.is_some_and(|s| s.success()), "the agent failed: {report}\n{}", program.text());
    report
}

#[test]
fn the_official_sdk_client_authorizes_and_works_on_attio_for_each_revision() {
    let stack = Stack::start(&[]);
    let base = stack.worker.client.base.clone();
    for revision in REVISIONS {
        // Every tool once, through the SDK (which checks each result against its outputSchema).
        let every_tool = *revision == REVISIONS[0];
        let report = run_agent(&stack, revision, every_tool);
        if every_tool {
            let calls = report["everyTool"].as_object().expect("the tour ran");
            assert!(calls.get("stoppedAt").is_none(), "the tour stopped: {}", report["everyTool"]);
            for tool in report["tools"].as_array().unwrap().iter().filter_map(Value::as_str) {
                let results = calls.get(tool).and_then(Value::as_array);
                assert!(results.is_some_and(|r| !r.is_empty() && r.iter().all(|x| x == "ok")), "{tool}: {results:?}");
            }
        }
        assert_eq!(report["protocolVersion"], *revision, "{report}");
        assert_eq!(report["iss"], base.as_str(), "RFC 9207 issuer in the redirect");
        assert_eq!(report["tokenType"], "Bearer");
        assert_eq!(report["hasRefreshToken"], true);
        assert_eq!(report["serverName"], "attio-gateway");
        let tools: Vec<&str> = report["tools"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(tools.contains(&"query_records") && tools.contains(&"create_note"), "{tools:?}");
        assert_eq!(report["whoami"]["isError"], false, "{report}");
        assert_eq!(report["whoami"]["structured"]["data"]["workspace_slug"], "acme");
        assert_eq!(report["write"]["isError"], false, "{report}");
        let title = report["write"]["title"].as_str().unwrap().to_string();
        assert!(
            stack.mock.with(|w| w.workspaces[0].notes.iter().any(|n| n.title == title)),
            "the note written through the SDK is not in the mock"
        );
    }
}
