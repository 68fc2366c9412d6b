// The bench's measured calls, as bench/load.mjs arguments (bench/drive.mjs, bench/callgrind.mjs):
//   legacy  tools/call get_server_info in a 2025-06-18 session
//   modern  the same as stateless 2026-07-28 requests
//   nohost  tools/call get_recent_events, modern, for events from a time none has (since_ms
//           2^53-1): no Scrypted system or device call (the bearer check's storage reads and
//           the audit row's append are every call's), and a fixed workload. Its answer with no filter grew
//           ~450 B per event in the plugin's ring, and the ring depends on what happened since
//           that plugin started (deploy order on a real Scrypted, scrypted-host.md §13), so two
//           builds' figures did not compare; an empty page is the same call on any host. The
//           call still reads and checks its arguments, scans the ring and builds its page;
//           the expected text fails the run if the page is ever not empty.
export const POINTS = {
  legacy: { args: [] },
  modern: { args: ['--modern'] },
  nohost: { args: ['--modern', '--tool', 'get_recent_events', '--args', '{"since_ms":9007199254740991}', '--expect', '"events":[]'] },
};
