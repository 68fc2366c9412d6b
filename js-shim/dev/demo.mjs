// Demo data of the dev host: a small Scrypted server with plugins, devices of several types,
// an admin and a non-admin user, logs at several levels, alerts, SCRYPTED_* variables
// (including secret-looking ones) and a .env file. `demoData(now)` returns a fresh copy.

export const PLUGIN_ID = 'scrypted-mcp';
export const ADMIN = { username: 'admin', password: 'admin-password' };
export const VIEWER = { username: 'viewer', password: 'viewer-password' };
export const SERVER_VERSION = '0.144.2';

const MIN = 60_000;

export function demoData(now = Date.now(), { port = 11080 } = {}) {
  // Devices: id → {id, nativeId, pluginId, name, type, interfaces, room, providerId, info,
  // mixins, storage, state: {prop: value}}. Plugin roots (no nativeId) carry ScryptedPlugin.
  const devices = {};
  const add = (d) => {
    devices[d.id] = {
      nativeId: undefined, providerId: undefined, room: undefined, mixins: [], storage: {}, state: {}, info: {},
      ...d,
    };
  };
  const plugins = {};
  const plugin = (id, rootId, name, version, extra = {}) => {
    plugins[id] = {
      pluginId: id,
      rootId,
      pid: 4000 + Number(rootId),
      clientsCount: 0,
      rpcObjects: 12 + Number(rootId),
      pendingResults: 0,
      pendingResultCounts: {},
      packageJson: {
        name: id,
        version,
        description: `${name} plugin for Scrypted`,
        keywords: ['scrypted', 'scrypted-plugin'],
        scrypted: { name, type: extra.type || 'API', interfaces: extra.interfaces || ['ScryptedPlugin'] },
      },
      latest: extra.latest || version,
      deprecated: !!extra.deprecated,
    };
    add({
      id: rootId, pluginId: id, name, type: extra.type || 'API',
      interfaces: [...new Set([...(extra.interfaces || []), 'ScryptedPlugin'])],
      info: { manufacturer: id, version },
      storage: extra.storage || {},
    });
  };

  plugin('@scrypted/core', '1', 'Scrypted Core', '0.3.120', {
    type: 'Builtin',
    interfaces: ['HttpRequestHandler', 'EngineIOHandler', 'DeviceProvider', 'Settings', 'Readme'],
    latest: '0.3.121',
    storage: { 'core.theme': 'dark' },
  });
  add({
    id: '2', nativeId: 'users', pluginId: '@scrypted/core', providerId: '1', name: 'Users', type: 'Builtin',
    interfaces: ['DeviceCreator', 'DeviceProvider', 'ScryptedSystemDevice', 'Readme'],
  });
  plugin(PLUGIN_ID, '3', 'MCP Server', '0.1.0', { interfaces: ['HttpRequestHandler', 'Settings', 'Readme'] });
  plugin('@scrypted/hue', '4', 'Philips Hue', '0.2.14', {
    interfaces: ['DeviceProvider', 'Settings'],
    latest: '0.2.15',
    storage: { bridgeAddress: '192.168.1.20', username: 'hue-app-key-3f9a0c1e7d', 'api-token': 'hue-secret-token-0000' },
  });
  add({
    id: '5', nativeId: 'light-1', pluginId: '@scrypted/hue', providerId: '4', name: 'Living Room Light', type: 'Light',
    room: 'Living Room', interfaces: ['OnOff', 'Brightness', 'Refresh'], info: { model: 'LCT016', manufacturer: 'Signify' },
    state: { on: true, brightness: 80 },
  });
  add({
    id: '6', nativeId: 'light-2', pluginId: '@scrypted/hue', providerId: '4', name: 'Kitchen Light', type: 'Light',
    room: 'Kitchen', interfaces: ['OnOff', 'Brightness'], info: { model: 'LWB010', manufacturer: 'Signify' },
    state: { on: false, brightness: 0 },
  });
  plugin('@scrypted/amcrest', '7', 'Amcrest', '0.0.150', { interfaces: ['DeviceProvider', 'DeviceCreator'] });
  const streams = Array.from({ length: 6 }, (_, i) => ({
    id: `channel${i}`,
    name: `Stream ${i}`,
    container: 'rtsp',
    video: { codec: 'h264', width: 3840 >> (i % 3), height: 2160 >> (i % 3), fps: 20, bitrate: 4_000_000 >> i, keyframeInterval: 40 },
    audio: { codec: 'aac', sampleRate: 16000 },
    tool: 'scrypted',
    userConfigurable: true,
  }));
  add({
    id: '8', nativeId: 'cam-front', pluginId: '@scrypted/amcrest', providerId: '7', name: 'Front Door Camera', type: 'Camera',
    room: 'Entrance',
    interfaces: ['Camera', 'VideoCamera', 'VideoCameraConfiguration', 'MotionSensor', 'ObjectDetector', 'Settings', 'Intercom', 'Online'],
    info: { model: 'IP8M-2496EB', manufacturer: 'Amcrest', firmware: '2.800.0000000.18.R', serialNumber: 'AMC0123456789', ip: '192.168.1.40', mac: '9c:8e:cd:00:11:22' },
    storage: { ip: '192.168.1.40', username: 'admin', password: 'camera-password-123', rtspChannel: '1' },
    state: {
      motionDetected: false,
      online: true,
      videoStreamOptions: streams,
      pictureOptions: [{ id: 'snapshot', picture: { width: 3840, height: 2160 } }],
      objectDetectionTypes: { classes: ['person', 'vehicle', 'animal', 'package', 'face', 'plate'] },
      detectionHistory: Array.from({ length: 40 }, (_, i) => ({
        timestamp: now - i * 5 * MIN, className: ['person', 'vehicle', 'animal'][i % 3], score: 0.5 + (i % 5) / 10,
        boundingBox: [10 * i, 20, 100, 200],
      })),
    },
  });
  plugin('@scrypted/zwave', '9', 'Z-Wave', '0.1.80', { interfaces: ['DeviceProvider', 'Settings'], storage: { networkKey: '0102030405060708090a0b0c0d0e0f10' } });
  add({
    id: '10', nativeId: 'node-4', pluginId: '@scrypted/zwave', providerId: '9', name: 'Front Door Lock', type: 'Lock',
    room: 'Entrance', interfaces: ['Lock', 'Battery'], info: { model: 'YRD256', manufacturer: 'Yale' },
    state: { lockState: 'Locked', batteryLevel: 64 },
  });
  add({
    id: '11', nativeId: 'node-7', pluginId: '@scrypted/zwave', providerId: '9', name: 'Hallway Motion Sensor', type: 'Sensor',
    room: 'Hallway', interfaces: ['MotionSensor', 'Battery'], state: { motionDetected: false, batteryLevel: 87 },
  });
  add({
    id: '12', nativeId: 'node-9', pluginId: '@scrypted/zwave', providerId: '9', name: 'Outdoor Thermometer', type: 'Sensor',
    room: 'Garden', interfaces: ['Thermometer', 'HumiditySensor', 'Battery'],
    state: { temperature: 12.5, temperatureUnit: 'C', humidity: 64, batteryLevel: 91 },
  });
  add({
    id: '13', nativeId: 'user:viewer', pluginId: '@scrypted/core', providerId: '2', name: 'viewer', type: 'Person',
    interfaces: ['ScryptedUser', 'Settings'],
  });
  plugin('@scrypted/old-dashboard', '14', 'Old Dashboard', '1.0.3', { deprecated: true, interfaces: ['HttpRequestHandler'] });

  const users = [
    { username: ADMIN.username, password: ADMIN.password, aclId: undefined, token: 'user-token-admin-6f1d2c9b8a', created: now - 90 * 24 * 60 * MIN },
    { username: VIEWER.username, password: VIEWER.password, aclId: '13', token: 'user-token-viewer-4e8a1b7c2d', created: now - 10 * 24 * 60 * MIN },
  ];

  // Logs by logger path; device loggers live under /device/<id>.
  const logs = {};
  const log = (path, title, level, message, ago) => {
    (logs[path] ||= []).push({ title, timestamp: now - ago, level, message, path });
  };
  log('/', 'Scrypted Server', 'i', 'server started, version ' + SERVER_VERSION, 60 * MIN);
  log('/', 'Scrypted Server', 'w', 'no cloud login configured', 59 * MIN);
  log('/', 'Scrypted Server', 'd', 'database compacted', 30 * MIN);
  log('/device', 'Devices', 'v', 'device manager ready', 58 * MIN);
  log('/device/5', 'Living Room Light', 'i', 'turned on', 20 * MIN);
  log('/device/5', 'Living Room Light', 'd', 'brightness 80', 19 * MIN);
  log('/device/8', 'Front Door Camera', 'e', 'RTSP stream error: connection reset by peer', 15 * MIN);
  log('/device/8', 'Front Door Camera', 'a', 'Camera offline for 2 minutes', 14 * MIN);
  log('/device/8', 'Front Door Camera', 'i', 'stream recovered', 12 * MIN);
  log('/device/10', 'Front Door Lock', 'w', 'battery low (64%)', 8 * MIN);
  log('/device/11', 'Hallway Motion Sensor', 'v', 'motion cleared', 5 * MIN);
  log('/plugin/@scrypted/zwave', 'Z-Wave', 'e', 'node 12 failed to respond', 3 * MIN);

  const alerts = [
    { _id: 'alert-1', timestamp: now - 14 * MIN, title: 'Front Door Camera', path: '/device/8', message: 'Camera offline for 2 minutes' },
    { _id: 'alert-2', timestamp: now - 40 * MIN, title: 'Z-Wave', path: '/plugin/@scrypted/zwave', message: 'Z-Wave controller reconnected' },
    { _id: 'alert-3', timestamp: now - 50 * MIN, title: 'Scrypted Server', path: '/', message: 'A new server version is available' },
  ];

  const env = {
    SCRYPTED_INSECURE_PORT: String(port),
    SCRYPTED_SECURE_PORT: '10443',
    SCRYPTED_VOLUME: '/server/volume',
    SCRYPTED_NVR_VOLUME: '/nvr',
    SCRYPTED_INSTALL_ENVIRONMENT: 'docker',
    SCRYPTED_CAN_RESTART: 'true',
    SCRYPTED_WEBHOOK_UPDATE: 'http://watchtower:8080/v1/update',
    SCRYPTED_WEBHOOK_UPDATE_AUTHORIZATION: 'Bearer watchtower-secret-5d41402abc',
    SCRYPTED_ADMIN_TOKEN: 'scrypted-admin-token-7c9e6679f1',
    SCRYPTED_CLUSTER_SECRET: 'cluster-secret-e4da3b7fbbce',
    SCRYPTED_DB_PASSWORD: 'db-password-1679091c5a',
  };

  const dotenv = [
    '# Scrypted environment',
    'SCRYPTED_NVR_VOLUME=/nvr',
    'SCRYPTED_WEBHOOK_UPDATE=http://watchtower:8080/v1/update',
    'SCRYPTED_WEBHOOK_UPDATE_AUTHORIZATION=Bearer watchtower-secret-5d41402abc',
    'SCRYPTED_CLUSTER_SECRET=cluster-secret-e4da3b7fbbce',
    'TZ=Europe/Berlin',
    '',
  ].join('\n');

  return {
    devices,
    plugins,
    users,
    logs,
    alerts,
    env,
    dotenv,
    cors: {},
    externalAddresses: {},
    localAddresses: undefined,
    clusterWorkers: {},
    restoredBackups: [],
    nextId: 15,
  };
}
