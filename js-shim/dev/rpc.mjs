// Scrypted's RPC proxy semantics, as a plugin sees them (docs/reference/scrypted-host.md §2):
// - every method call returns a Promise, even for server-synchronous methods;
// - any property name reads as a callable (`typeof proxy.x === 'function'` is always true);
//   a missing method rejects with "target X does not have method Y";
// - arguments and results are copied (serialized), Buffers stay Buffers, undefined object
//   fields disappear;
// - errors arrive with their message only (`e.code` etc. are lost), and the message gains the
//   peer route: RPCResultError appends "\n<self>:<peer>" (server/src/rpc.ts:229-231), and a
//   plugin's peer is named after the plugin, its peer 'host' (plugin-remote-worker.ts:42,97).

/** The route a remote error's message ends with, as this plugin sees it. */
export const RPC_ROUTE = 'scrypted-mcp:host';

/** The Error a plugin gets for `e` thrown on the server side of the RPC. */
export function withRoute(e) {
  return new Error(`${String((e && e.message) || e)}\n${RPC_ROUTE}`);
}

/** A deep copy the way Scrypted's RPC serialization makes one. */
export function rpcCopy(value) {
  if (value === undefined || value === null) return value;
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : rpcCopy(v)));
  if (typeof value === 'object') {
    if (typeof value.toJSON === 'function') return rpcCopy(value.toJSON()); // Dates become strings
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function') continue;
      out[k] = rpcCopy(v);
    }
    return out;
  }
  if (typeof value === 'function') return undefined;
  return value;
}

/**
 * Wraps `target` as an RPC proxy.
 * @param target   object whose function members are the remote methods; non-function own
 *                 members are exposed as (copied) data properties, like a device's state.
 * @param name     for error messages ("target <name> does not have method <m>")
 * @param record   (method, args) => void, called for every method call
 * @param options  {returnsProxies: Set<method>} methods whose result is itself an RPC proxy
 *                 (not copied); {missing: (method) => message} what a missing method says
 *                 (default: rpc.ts:767's "target X does not have method Y")
 */
export function rpcProxy(target, name, record, options = {}) {
  const passthrough = options.returnsProxies || new Set();
  const missing = options.missing || ((m) => `target ${name} does not have method ${m}`);
  return new Proxy(
    {},
    {
      get(_t, prop) {
        if (typeof prop === 'symbol') return undefined;
        if (prop === 'then') return undefined; // awaiting a proxy yields the proxy
        if (prop === 'toJSON') return () => ({ __rpcProxy: name });
        const member = target[prop];
        if (member !== undefined && typeof member !== 'function') return rpcCopy(member);
        return (...args) => {
          const copied = args.map((a) => rpcCopy(a));
          if (record) record(prop, copied);
          return new Promise((resolve, reject) => {
            // Remote calls resolve on a later tick, never synchronously.
            setImmediate(async () => {
              try {
                if (typeof target[prop] !== 'function') {
                  throw new Error(missing(prop));
                }
                const result = await target[prop](...copied);
                resolve(passthrough.has(prop) ? result : rpcCopy(result));
              } catch (e) {
                reject(withRoute(e));
              }
            });
          });
        };
      },
      has(_t, prop) {
        return prop in target;
      },
      ownKeys() {
        return Reflect.ownKeys(target).filter((k) => typeof target[k] !== 'function');
      },
      getOwnPropertyDescriptor(_t, prop) {
        if (typeof target[prop] === 'function' || !(prop in target)) return undefined;
        return { configurable: true, enumerable: true, value: rpcCopy(target[prop]) };
      },
    },
  );
}
