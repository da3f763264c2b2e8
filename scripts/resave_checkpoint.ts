// Loads a model folder with loadCheckpoint and writes it again with saveCheckpoint:
//   node --import tsx scripts/resave_checkpoint.ts SRC_DIR OUT_DIR
// Used by scripts/check_roundtrip.py to show that what we save loads in the PyTorch reference.
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/folder.ts';

const [src, out] = process.argv.slice(2);
if (src === undefined || out === undefined) {
  process.stderr.write('usage: resave_checkpoint.ts SRC_DIR OUT_DIR\n');
  process.exit(2);
}
const ck = loadCheckpoint(src);
saveCheckpoint(out, ck.config, ck.tensors, { tokenizerDir: src });
process.stderr.write(`read ${ck.source} (${ck.tensors.size} tensors, ignored: ${ck.ignored.join(', ') || 'none'}), wrote ${out}\n`);
