// Prints the source files of native/sources.txt that carry `tag` ('' = untagged), space-separated,
// for binding.gyp command expansion. CMakeLists.txt reads the same file.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const tag = process.argv[2] || '';
const lines = readFileSync(join(__dirname, 'sources.txt'), 'utf8').split('\n');
const out = [];
for (const line of lines) {
  const m = /^(native\/\S+)\s*(?:\[(\w+)\])?/.exec(line.trim());
  if (m && (m[2] || '') === tag) out.push(m[1]);
}
process.stdout.write(out.join(' '));
