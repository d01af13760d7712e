// The draft and its versions: saving it as a version, restoring an old one, whether the
// canvas holds unsaved changes (the tab's title, the warning on leaving), the flow's
// publication, and the key that refreshes the history list.
import { useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, errorMessage } from "../api/client";
import type { FlowDetail, Publication } from "../api/types";
import { useToast } from "../components/Toast";
import { fromDocument, toDocument, type PlaitEdge, type PlaitNode } from "../lib/flow";
import type { FlowContents, FlowState } from "./useFlowState";

function keyOf({ meta, nodes, edges }: FlowContents): string {
  return JSON.stringify(toDocument(meta, nodes, edges));
}

export function useDraft(initial: FlowDetail, state: FlowState) {
  const toast = useToast();
  const { fitView } = useReactFlow<PlaitNode, PlaitEdge>();
  const { start, meta, nodes, edges, draft, replace } = state;
  const flowId = initial.id;
  const [flow, setFlow] = useState<FlowDetail>(initial);
  const [savedKey, setSavedKey] = useState(() => keyOf(start));
  const [saving, setSaving] = useState(false);
  const [historyKey, setHistoryKey] = useState(0);
  const currentKey = useMemo(() => keyOf({ meta, nodes, edges }), [meta, nodes, edges]);
  const dirty = currentKey !== savedKey;

  useEffect(() => {
    document.title = `${meta.name || "Untitled flow"}${dirty ? " •" : ""} — Plait`;
  }, [meta.name, dirty]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const refreshHistory = useCallback(() => setHistoryKey((k) => k + 1), []);

  /** Saves the draft as a new version (none when nothing changed); its number, or null. */
  const save = useCallback(
    async (message?: string): Promise<number | null> => {
      setSaving(true);
      try {
        const doc = draft();
        const before = flow.version;
        const detail = await api.saveFlow(flowId, doc, message);
        setFlow(detail);
        setSavedKey(JSON.stringify(doc));
        refreshHistory();
        toast.show(detail.version !== before ? `Saved as version ${detail.version}` : "No changes to save", "success");
        return detail.version;
      } catch (e) {
        toast.show(`Could not save: ${errorMessage(e)}`, "error");
        return null;
      } finally {
        setSaving(false);
      }
    },
    [draft, flow.version, flowId, refreshHistory, toast],
  );

  const restore = useCallback(
    async (version: number) => {
      if (dirty && !window.confirm("Restoring replaces the unsaved changes on the canvas. Continue?")) return;
      const detail = await api.restoreVersion(flowId, version);
      const next = fromDocument(detail.document);
      replace(next);
      setFlow(detail);
      setSavedKey(keyOf(next));
      refreshHistory();
      window.setTimeout(() => void fitView({ padding: 0.2 }), 50);
      toast.show(`Restored version ${version} as version ${detail.version}`, "success");
    },
    [dirty, flowId, replace, refreshHistory, fitView, toast],
  );

  const publicationChanged = useCallback(
    (publication: Publication | null) => {
      setFlow((f) => ({ ...f, publication, published_version: publication?.version ?? null }));
      refreshHistory();
    },
    [refreshHistory],
  );

  return { flow, dirty, saving, historyKey, refreshHistory, save, restore, publicationChanged };
}

export type Draft = ReturnType<typeof useDraft>;
