/** Process-wide counters of `siar/server`, read by metrics (the hub's `/metrics`, your own). */
export interface ServerStats {
  /** Streams opened since the process started. */
  streamsOpened: number;
  /** Streams open now. */
  streamsOpen: number;
  /** Frames written to streams (one per event per stream, heartbeats included). */
  framesWritten: number;
  /** Streams closed because their client did not read fast enough (over `maxBufferedBytes`). */
  slowConsumersClosed: number;
}

/** The live counters; read them, do not write them. */
export const serverStats: ServerStats = {
  streamsOpened: 0,
  streamsOpen: 0,
  framesWritten: 0,
  slowConsumersClosed: 0,
};
