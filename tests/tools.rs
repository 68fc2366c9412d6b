//! The tool catalogue against the fake host: each tool's logic, quirks and error paths.

mod common;

use common::*;
use scrypted_mcp::host::Host;

#[test]
fn fake_host_demo_data_is_plausible() {
    let (_plugin, host, _store, _clock) = plugin();
    let state = futures::executor::block_on(host.system_state()).unwrap();
    assert!(state.len() >= 10);
    assert_eq!(host.calls_of("systemState").len(), 1);
}
