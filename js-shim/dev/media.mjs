// Cameras and the media manager of the dev host, as a plugin sees them on a real server
// (docs/reference/scrypted-host.md §14):
//  - `takePicture(options)` answers a MediaObject: an RPC proxy whose `mimeType` and
//    `sourceId` read as data and whose `getData()` resolves to the picture's bytes. The
//    picture is a real JPEG (jpeg-js) of the requested `picture.width`, 16:9, or the
//    camera's native width when none is asked for.
//  - `mediaManager.convertMediaObjectToBuffer(mo, mimeType)` (local to the plugin's
//    process): same type → `mo.getData()`; image/* → image/* passes the bytes through
//    unchanged, as Scrypted's built-in "Image Converter" does (server/src/plugin/media.ts
//    141-149); anything else → "no converter found: <from> to <to>".
// Per camera, a mode chosen through POST /__devhost/camera makes it misbehave the ways real
// cameras do (CAMERA_MODES).
import jpeg from 'jpeg-js';
import { rpcProxy } from './rpc.mjs';

/**
 * jpeg   a gradient JPEG of the requested width (default)
 * noise  per-pixel noise at the requested width: about 2.6 MB at 1920 wide, for the size cap
 * native ignores the requested width (as a camera without resizing does): its native width
 * png    a PNG under mimeType image/png (the image converter passes it through as "image/jpeg")
 * fail   takePicture rejects with "Camera offline"
 * hang   takePicture never answers
 * slow   a JPEG as `jpeg` gives, after SLOW_MS, as a battery camera waking up answers
 */
export const CAMERA_MODES = ['jpeg', 'noise', 'native', 'png', 'fail', 'hang', 'slow'];

/** How long a `slow` camera takes to answer (real wall time, not the plugin's clock). */
export const SLOW_MS = 5_000;

/** Width of a camera's pictures when none is asked for, or in `native` mode. */
export const NATIVE_WIDTH = 1920;

// A 1×1 PNG (a real one: signature, IHDR, IDAT, IEND).
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

const encoded = new Map();

/** A JPEG `width` wide, 16:9; cached, because encoding blocks the event loop. */
export function jpegPicture(width, noise = false) {
  const key = `${width}:${noise}`;
  if (!encoded.has(key)) {
    const height = Math.max(1, Math.round((width * 9) / 16));
    const data = Buffer.alloc(width * height * 4);
    let seed = 12345;
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const n = noise ? seed >>> 24 : 0;
        data[i++] = ((x * 255) / width) ^ n;
        data[i++] = ((y * 255) / height) ^ n;
        data[i++] = 128 ^ n;
        data[i++] = 255;
      }
    }
    encoded.set(key, jpeg.encode({ data, width, height }, 80).data);
  }
  return encoded.get(key);
}

/** `Camera.takePicture(options)` of a device in `mode`: a MediaObject proxy. */
export async function takePicture(device, mode, options) {
  if (mode === 'fail') throw new Error('Camera offline');
  if (mode === 'hang') return new Promise(() => {});
  if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
  const asked = Number(options?.picture?.width);
  const width = mode === 'native' || !(asked > 0) ? NATIVE_WIDTH : Math.min(Math.round(asked), 7680);
  const png = mode === 'png';
  const media = {
    mimeType: png ? 'image/png' : 'image/jpeg',
    sourceId: device.id,
    getData: async () => (png ? Buffer.from(PNG_1X1) : jpegPicture(width, mode === 'noise')),
  };
  return rpcProxy(media, `media object of device ${device.id}`, () => {});
}

/** The plugin's mediaManager (local to its process); `record(method, args)` for each call. */
export function mediaManager(record) {
  return {
    convertMediaObjectToBuffer: async (mo, toMimeType) => {
      record('mediaManager.convertMediaObjectToBuffer', [{ mimeType: mo?.mimeType ?? null }, toMimeType]);
      const from = String(mo?.mimeType ?? '');
      const image = (t) => /^image\//.test(t);
      if (from === toMimeType || (image(from) && image(toMimeType))) return Buffer.from(await mo.getData());
      throw new Error(`no converter found: ${from} to ${toMimeType}`);
    },
    convertMediaObjectToJSON: async () => ({}),
    createMediaObject: async (data, mimeType) => ({ data, mimeType }),
  };
}
