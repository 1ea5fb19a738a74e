// The ledger's storage seam. Reads are plain SQL on `sql`; every change goes through write(), the one
// transaction (a write inside another is part of it), so no helper opens its own and none is "to be
// run inside a transaction". write() also keeps the ledger's one piece of knowledge about its storage
// honest: whether this instance created the object's schema and nothing was written since (a new
// object's first event then has nothing to be a duplicate of and no state to read, so nothing is read).

export class LedgerStore {
  readonly sql: SqlStorage;
  #empty = false;
  /** While a write runs: whether the object was empty when it began (its nested writes see the same). */
  #writing: { readonly wasEmpty: boolean } | null = null;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  /** This instance has just created the object's schema: nothing is in it yet. */
  created(): void {
    this.#empty = true;
  }

  /** Runs `change` in one SQLite transaction (or in the write already running) and returns what it
   *  returns; `wasEmpty` says nothing had been written since this instance created the schema. A change
   *  that throws writes nothing. */
  write<T>(change: (sql: SqlStorage, wasEmpty: boolean) => T): T {
    if (this.#writing !== null) return change(this.sql, this.#writing.wasEmpty);
    this.#writing = { wasEmpty: this.#empty };
    this.#empty = false;
    try {
      return this.storage.transactionSync(() => change(this.sql, this.#writing?.wasEmpty ?? false));
    } finally {
      this.#writing = null;
    }
  }
}
