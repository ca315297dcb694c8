// Imported first by every service's bin entry, which is plain JavaScript: nothing is compiled yet.
//
// Node strips the services' TypeScript types itself, with a WebAssembly stripper it loads on the
// first .ts file and keeps for the life of the process: ~18 MB of RSS, plus the compile garbage
// of every module. Node's compile cache keeps each module's stripped source and V8 code cache on
// disk, so a start after the first (or after `--version`, which loads every module and exits: the
// image runs it at build time) never loads the stripper and compiles nothing: the gateway idles at
// ~100 MB instead of ~128 (docs/PERFORMANCE.md, "Start-up and idle memory").
//
// NODE_COMPILE_CACHE, when set, names the directory (Node reads it before this runs; the image
// and the systemd unit set it). Otherwise: node_modules/.cache/framecast-compile at the install's
// root. A directory that cannot be created is skipped silently: the service starts as before.
import module from 'node:module';
import { fileURLToPath } from 'node:url';

if (!process.env.NODE_COMPILE_CACHE) {
  module.enableCompileCache?.(fileURLToPath(new URL('../../node_modules/.cache/framecast-compile/', import.meta.url)));
}
