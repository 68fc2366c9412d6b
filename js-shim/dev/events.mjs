// Device events of the dev host, as a plugin sees them on a real server
// (docs/reference/scrypted-host.md §14; server/src/event-registry.ts, state.ts,
// plugin/plugin-remote.ts, plugin/system.ts):
//  - a state property set to a value that differs (JSON equality) from the current one
//    fires one event, keyed by the interface the property belongs to; the same value
//    fires nothing;
//  - events arrive on a later tick than the change (one-way RPC), and the local state
//    mirror already shows the new value when the listener runs;
//  - `systemManager.listen(cb)` gets property changes, `ScryptedDevice` events (a device
//    added or its descriptor changed: the whole state map; removed: property 'id', the
//    removed id as data, no event source) and `Logger` events (alerts), never property-less
//    interface events; its `removeListener()` is synchronous;
//  - `listenDevice(id, ...)` gets that device's events; without `watch: true` it is an RPC
//    registration whose `removeListener()` returns a Promise.
import { randomBytes } from 'node:crypto';

/** Property → interface (ScryptedInterfaceDescriptors, @scrypted/types 0.5.54), for eventInterface. */
export const PROPERTY_INTERFACES = Object.fromEntries(Object.entries({
  OnOff: ['on'], Brightness: ['brightness'], ColorSettingTemperature: ['colorTemperature'], ColorSettingRgb: ['rgb'],
  ColorSettingHsv: ['hsv'], Buttons: ['buttons'], Sensors: ['sensors'], StartStop: ['running'], Pause: ['paused'],
  Dock: ['docked'], TemperatureSetting: ['temperatureSetting'], Thermometer: ['temperature', 'temperatureUnit'],
  HumiditySensor: ['humidity'], Resolution: ['resolution'], AudioVolumeControl: ['audioVolumes'],
  VideoRecorder: ['recordingActive'], PanTiltZoom: ['ptzCapabilities'], Lock: ['lockState'], EntrySensor: ['entryOpen'],
  Battery: ['batteryLevel'], Charger: ['chargeState'], Online: ['online'], BinarySensor: ['binaryState'],
  TamperSensor: ['tampered'], Sleep: ['sleeping'], PowerSensor: ['powerDetected'], AudioSensor: ['audioDetected'],
  MotionSensor: ['motionDetected'], AmbientLightSensor: ['ambientLight'], OccupancySensor: ['occupied'],
  FloodSensor: ['flooded'], UltravioletSensor: ['ultraviolet'], LuminanceSensor: ['luminance'], PositionSensor: ['position'],
  SecuritySystem: ['securitySystemState'], CO2Sensor: ['co2ppm'], AirQualitySensor: ['airQuality'],
  AirPurifier: ['airPurifierState'], FilterMaintenance: ['filterChangeIndication', 'filterLifeLevel'],
  HumiditySetting: ['humiditySetting'], Fan: ['fan'],
}).flatMap(([iface, props]) => props.map((p) => [p, iface])));

export class EventHub {
  /** `deviceProxy(id)`: what a listener gets as the event source. */
  constructor(deviceProxy) {
    this.deviceProxy = deviceProxy;
    this.system = new Set();
    this.devices = new Set();
    /** Every event dispatched, oldest first: {id, eventInterface, property, value}. */
    this.fired = [];
  }

  listen(cb) {
    this.system.add(cb);
    return { removeListener: () => { this.system.delete(cb); } };
  }

  listenDevice(id, options, cb) {
    const o = typeof options === 'string' ? { event: options } : (options || {});
    const entry = { id, event: o.event, watch: !!o.watch, cb };
    this.devices.add(entry);
    const remove = () => { this.devices.delete(entry); };
    return { removeListener: entry.watch ? remove : async () => remove() };
  }

  /** Open registrations, for GET /__devhost/state. */
  counts() {
    return { system: this.system.size, device: this.devices.size };
  }

  /** Dispatches one event on a later tick. `id` undefined: no event source. */
  notify(id, { eventInterface, property, eventTime }, data) {
    const details = { eventId: randomBytes(8).toString('hex'), eventInterface, eventTime, property, mixinId: undefined };
    this.fired.push({ id: id ?? null, eventInterface, property: property ?? null, value: data ?? null });
    if (this.fired.length > 5000) this.fired.splice(0, this.fired.length - 5000);
    setImmediate(() => {
      const source = id === undefined ? undefined : this.deviceProxy(id);
      for (const cb of [...this.system]) this.call(cb, source, details, data);
      for (const d of [...this.devices]) {
        if (d.id === id && (d.event === undefined || d.event === eventInterface)) this.call(d.cb, source, details, data);
      }
    });
  }

  call(cb, source, details, data) {
    try {
      cb(source, { ...details }, data);
    } catch (e) {
      console.error('[devhost] an event listener threw', e);
    }
  }
}

/**
 * `npm start` only: the demo house moves. The front door camera's motion sensor toggles every
 * 20 s, the hallway temperature drifts every 30 s. Returns a stop function.
 */
export function startDemoEvents(runtime) {
  const timers = [
    setInterval(() => {
      const cam = runtime.device('12');
      if (cam) runtime.setDeviceState(cam, 'motionDetected', !cam.state.motionDetected);
    }, 20_000),
    setInterval(() => {
      const sensor = runtime.device('14');
      if (!sensor) return;
      const t = Number(sensor.state.temperature) || 21;
      const next = Math.round((t + (Math.random() < 0.5 ? -0.1 : 0.1)) * 10) / 10;
      runtime.setDeviceState(sensor, 'temperature', Math.min(26, Math.max(17, next)));
    }, 30_000),
  ];
  for (const t of timers) t.unref();
  return () => timers.forEach(clearInterval);
}
