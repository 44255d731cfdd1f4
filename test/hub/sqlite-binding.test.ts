import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/hub/stores/sqlite.js';
import { sqliteBinding } from '../../src/hub/stores/sqlite-binding.js';

/** node:sqlite is a release candidate from Node.js 24 on; on 22 it is experimental and warns when loaded. */
const nodeHasSqlite = Number(process.versions.node.split('.')[0]) >= 24;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function loadedBetterSqlite(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('better-sqlite3'));
}

describe(`the SQLite store's binding on Node.js ${process.versions.node}`, () => {
  it(
    nodeHasSqlite
      ? 'is node:sqlite, built in: better-sqlite3 (a native module) is never loaded'
      : 'is better-sqlite3, node:sqlite being absent or experimental',
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'siar-sqlite-binding-'));
      const path = join(dir, 'hub.db');
      const first = new SqliteStore({ path });
      await first.open(() => {});
      await first.append({
        id: 'b1',
        topics: ['urn:t'],
        data: 'one',
        type: undefined,
        retry: undefined,
        private: false,
      });
      await first.close();
      const second = new SqliteStore({ path });
      const replayed: string[] = [];
      await second.open(() => {});
      await second.replay('earliest', (update) => replayed.push(update.id));
      await second.close();
      expect(replayed).toEqual(['b1']);
      expect(sqliteBinding()).toBe(nodeHasSqlite ? 'node:sqlite' : 'better-sqlite3');
      expect(loadedBetterSqlite()).toBe(!nodeHasSqlite);
    },
  );
});
