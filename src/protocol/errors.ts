/** What went wrong, as a stable string a program can switch on. */
export type ProtocolErrorCode =
  | 'invalid-field-type'
  | 'event-has-newline'
  | 'id-has-newline'
  | 'id-has-null'
  | 'invalid-retry'
  | 'event-too-large';

/**
 * The one error class of `siar/protocol`. It is a `TypeError` because every case is a value
 * of the wrong shape: an event field that would break the frame, or a stream that exceeds a limit.
 */
export class ProtocolError extends TypeError {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
