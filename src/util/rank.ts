/** Best first: the higher score, then the smaller id (ties broken the same way everywhere, so rankings are stable). */
export const byScoreThenId = (a: { id: string; score: number }, b: { id: string; score: number }): number =>
  b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
