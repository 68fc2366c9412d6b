//! Cluster: `cluster-fork` (docs/reference/scrypted-host.md §3.6).

use super::plugins::NoArgs;
use super::schema::{ok, tool, READ};
use super::{ToolContext, ToolDef, ToolResult};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::rc::Rc;

pub fn tools() -> Vec<ToolDef> {
    vec![tool! {
        name: "list_cluster_workers",
        title: "List cluster workers",
        description: "Lists the Scrypted cluster workers (id, name, labels, mode, address, forks). Empty unless the server runs in cluster-server mode, which the answer says.",
        input: NoArgs,
        output: ClusterOut,
        hints: READ,
        run: list_cluster_workers,
    }]
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClusterOut {
    /// One object per worker, as Scrypted reports it, with its `id`.
    pub workers: Vec<Value>,
    pub count: usize,
    /// Whether the server runs as a cluster (any workers reported).
    pub cluster_mode: bool,
    pub message: String,
}

async fn list_cluster_workers(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    let raw = tc.ctx.host.cluster_workers().await?;
    let workers: Vec<Value> = match raw {
        Value::Object(map) => map
            .into_iter()
            .map(|(id, mut w)| {
                if let Some(o) = w.as_object_mut() {
                    o.entry("id").or_insert(Value::String(id));
                }
                w
            })
            .collect(),
        Value::Array(list) => list,
        _ => Vec::new(),
    };
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
