// The bench's measured calls, as bench/load.mjs arguments (bench/run.mjs, bench/callgrind.mjs):
//   legacy  tools/call get_server_info in a 2025-06-18 session
//   modern  the same as stateless 2026-07-28 requests
//   nohost  tools/call get_recent_events, modern (no wait on Scrypted beyond one system-state read)
export const POINTS = {
  legacy: { args: [] },
  modern: { args: ['--modern'] },
  nohost: { args: ['--modern', '--tool', 'get_recent_events', '--expect', 'seen_since_start'] },
};
