/**
 * An error the user can act on: bad input, a bad file, a bad flag. The CLI prints its message
 * (no stack trace) and exits with code 2. `where` names the place: a file, a file:line, a node.
 */
export class BertError extends Error {
  readonly where: string | undefined;
  constructor(message: string, where?: string) {
    super(where === undefined ? message : `${where}: ${message}`);
    this.name = 'BertError';
    this.where = where;
  }
}
