/**
 * One way for every store to say "the database cannot be reached": the driver's connection
 * errors become the coded `database_unavailable` error callers know how to explain, other
 * errors (a bad query, a broken constraint) pass through unchanged.
 */
import { databaseUnavailable, isConnectionError } from './database.js';

/** Runs `work`, turning a lost or refused database connection into `database_unavailable`. */
export async function guardConnection<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isConnectionError(error)) throw databaseUnavailable(error);
    throw error;
  }
}
