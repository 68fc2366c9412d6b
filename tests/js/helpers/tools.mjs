// Small helpers around tool results and the dev host's recorded calls.

/** The production tool catalogue by area: the plugin's 41 tools. */
export const TOOLS = {
  plugins: ['list_plugins', 'get_plugin_info', 'reload_plugin', 'kill_plugin', 'install_plugin', 'update_plugins', 'npm_info', 'rename_device_id', 'set_mixins', 'get_storage', 'set_storage', 'get_id_for_native_id', 'disconnect_clients', 'clear_console'],
  devices: ['list_devices', 'get_device', 'call_device_method', 'get_camera_snapshot', 'get_recent_events'],
  logs: ['get_logs', 'clear_logs', 'list_alerts', 'remove_alert', 'clear_alerts'],
  server: ['get_server_info', 'restart_server', 'update_server', 'get_dotenv', 'set_dotenv'],
  users: ['list_users', 'add_user', 'remove_user'],
  network: ['get_local_addresses', 'set_local_addresses', 'get_external_addresses', 'set_external_addresses', 'get_cors', 'set_cors'],
  cluster: ['list_cluster_workers'],
  backup: ['create_backup', 'restore_backup'],
};
export const TOOL_NAMES = Object.values(TOOLS).flat();

/** The JSON of a tool result: structuredContent, else the first text block parsed. */
export function resultJson(result) {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const t = result.content?.find((c) => c.type === 'text');
  try {
    return t ? JSON.parse(t.text) : undefined;
  } catch {
    return undefined;
  }
}

/** All text of a tool result's content blocks, joined. */
export function resultText(result) {
  return (result.content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

/** Depth-first search for the first object that has `key`; returns that object. */
export function findObjectWithKey(value, key, seen = new Set()) {
  if (!value || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (!Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, key)) return value;
  for (const v of Object.values(value)) {
    const f = findObjectWithKey(v, key, seen);
    if (f) return f;
  }
  return undefined;
}

/** Calls whose method matches `re` (a RegExp or string). */
export function callsMatching(calls, re) {
  const r = typeof re === 'string' ? new RegExp(`^${re}$`) : re;
  return calls.filter((c) => r.test(String(c.method)));
}

/** Whether a recorded call is a restore (a host call or a deferred action). */
export function isRestore(c) {
  return /(^|\.)restore$/i.test(String(c.method ?? ''));
}

/** Builds an accepting elicitation answer from a requestedSchema (form mode). */
export function acceptingContent(requestedSchema) {
  const content = {};
  for (const [name, prop] of Object.entries(requestedSchema?.properties ?? {})) {
    if (prop.const !== undefined) content[name] = prop.const;
    else if (prop.type === 'boolean') content[name] = true;
    else if (Array.isArray(prop.enum)) content[name] = prop.enum.find((v) => /restore|yes|confirm/i.test(String(v))) ?? prop.enum[0];
    else if (Array.isArray(prop.oneOf)) {
      const c = prop.oneOf.find((o) => /restore|yes|confirm/i.test(`${o.const} ${o.title ?? ''}`)) ?? prop.oneOf[0];
      content[name] = c.const;
    } else if (prop.type === 'string') content[name] = prop.default ?? 'RESTORE FROM BACKUP';
    else if (prop.type === 'number' || prop.type === 'integer') content[name] = prop.default ?? prop.minimum ?? 0;
  }
  return content;
}
