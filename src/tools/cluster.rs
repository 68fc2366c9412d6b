//! Cluster: `cluster-fork` (docs/reference/scrypted-host.md §3.6).

use super::schema::{ok, tool, NoArgs, READ};
use super::{ToolContext, ToolDef, ToolResult};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
use std::rc::Rc;

// ---------- list_cluster_workers

pub const LIST_CLUSTER_WORKERS: ToolDef = tool! {
    name: "list_cluster_workers",
    title: "List cluster workers",
    description: "Lists the Scrypted cluster workers (id, name, labels, mode, address, forks). Empty unless the server runs in cluster-server mode, which the answer says.",
    input: NoArgs,
    output: ClusterOut,
    hints: READ,
    scope: Read,
    run: list_cluster_workers,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClusterOut {
    /// One object per worker, as Scrypted reports it, with its `id`.
    pub workers: Vec<Map<String, Value>>,
    pub count: usize,
    /// Whether the server runs as a cluster (any workers reported).
    pub cluster_mode: bool,
    pub message: String,
}

async fn list_cluster_workers(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    let raw = tc.ctx.host.cluster_workers().await?;
    // `getClusterWorkers()` answers `{[id]: ClusterWorker}`; ClusterWorker is an object.
    let workers: Vec<Map<String, Value>> = match raw {
        Value::Object(map) => map
            .into_iter()
            .filter_map(|(id, w)| match w {
                Value::Object(mut o) => {
                    o.entry("id").or_insert(Value::String(id));
                    Some(o)
                }
                _ => None,
            })
            .collect(),
        Value::Array(list) => list
            .into_iter()
            .filter_map(|w| match w {
                Value::Object(o) => Some(o),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut workers = workers;
    for worker in &mut workers {
        for (key, value) in worker.iter_mut() {
            super::redact::redact_property(key, value);
        }
    }
    let count = workers.len();
    ok(ClusterOut {
        cluster_mode: count > 0,
        message: if count == 0 {
            "No cluster workers: the server is not running in cluster-server mode.".into()
        } else {
            format!("{count} cluster workers.")
        },
        workers,
        count,
    })
}
