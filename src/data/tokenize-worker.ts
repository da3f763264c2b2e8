// Worker side of tokenizeInWorkers: builds the tokenizer once, then tokenizes each batch of
// documents it is sent and transfers the id arrays back.
import { parentPort, workerData } from 'node:worker_threads';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.ts';
import { tokenizeDocument, type TokenizeWorkerInit } from './tokenize.ts';

const init = workerData as TokenizeWorkerInit;
const tok = new BertTokenizer(init.vocab, init.lowercase);
const port = parentPort;
if (port === null) throw new Error('tokenize-worker must run as a worker thread');

port.on('message', (msg: { seq: number; docs: string[][] }) => {
  try {
    const docs = msg.docs.map((lines) => tokenizeDocument(lines, init.split, tok));
    port.postMessage({ seq: msg.seq, docs }, docs.flatMap((d) => [d.ids.buffer as ArrayBuffer, d.sentence_lengths.buffer as ArrayBuffer]));
  } catch (err) {
    port.postMessage({ seq: msg.seq, error: err instanceof Error ? err.message : String(err) });
  }
});
