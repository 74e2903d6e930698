import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Result } from '../api/http.js';
import type { Problem } from '../api/problem.js';

export type Loaded<T> =
  | { readonly state: 'loading'; readonly value: T | undefined }
  | { readonly state: 'ok'; readonly value: T }
  | { readonly state: 'error'; readonly value: T | undefined; readonly problem: Problem };

/**
 * Loads `load()` when `key` changes and on `reload()`; the previous value stays visible while a
 * new one loads. An answer that arrives after a newer request started is dropped.
 */
export function useLoad<T>(load: () => Promise<Result<T>>, key: string): Loaded<T> & { readonly reload: () => void } {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading', value: undefined });
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(() => {
    const mine = ++generation.current;
    setLoaded((previous) => ({ state: 'loading', value: previous.value }));
    void loadRef.current().then((result) => {
      if (mine !== generation.current) return;
      setLoaded((previous) => (result.ok ? { state: 'ok', value: result.value } : { state: 'error', value: previous.value, problem: result.problem }));
    });
  }, []);

  useEffect(() => {
    run();
    return () => {
      generation.current++;
    };
  }, [key, run]);

  return { ...loaded, reload: run };
}
