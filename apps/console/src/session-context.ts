import { createContext } from 'preact';
import type { ConsoleSession } from './api/types.js';

/** The signed-in session, for the pages that need to know about it (the overview's idle pause). */
export const SessionContext = createContext<ConsoleSession | undefined>(undefined);
