// Validates the draft on the server whenever its structure changes (debounced).
import { useEffect, useRef, useState } from "react";
import { api, errorMessage } from "../api/client";
import type { Problem } from "../api/types";
import { structureKey, toDocument, type FlowMeta, type PlaitEdge, type PlaitNode } from "../lib/flow";
import type { ViewStore } from "./viewStore";

export interface ValidationState {
  valid: boolean | null;
  problems: Problem[];
  error: string | null;
  /** The structure (see structureKey) the answer is for. */
  key: string | null;
}

export function useValidation(meta: FlowMeta, nodes: PlaitNode[], edges: PlaitEdge[], store: ViewStore, delayMs = 250): ValidationState {
  const [state, setState] = useState<ValidationState>({ valid: null, problems: [], error: null, key: null });
  const key = structureKey(nodes, edges);
  const latest = useRef({ meta, nodes, edges });
  latest.current = { meta, nodes, edges };

  useEffect(() => {
    const controller = new AbortController();
    const timer = window.setTimeout(async () => {
      const { meta: m, nodes: n, edges: e } = latest.current;
      const validatedKey = structureKey(n, e);
      try {
        const answer = await api.validate(toDocument(m, n, e), controller.signal);
        store.setValidation(answer.ports ?? {}, answer.problems ?? [], n.map((x) => x.id));
        setState({ valid: answer.valid, problems: answer.problems ?? [], error: null, key: validatedKey });
      } catch (err) {
        if (controller.signal.aborted) return;
        setState((s) => ({ ...s, error: errorMessage(err) }));
      }
    }, delayMs);
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [key, store, delayMs]);

  return state;
}
