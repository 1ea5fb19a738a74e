// The gateway's clock, in milliseconds since the epoch. One seam so tests can move time (retry
// schedules, dead-lettering after days) without sleeping; production always reads Date.now().
// Inside a Worker, Date.now() advances only across I/O, which is all the schedule needs.

export const clock = {
  now: (): number => Date.now(),
};
