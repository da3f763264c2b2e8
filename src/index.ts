// The library's public API: everything the CLI can do, typed.
export { BertError } from './errors.ts';
