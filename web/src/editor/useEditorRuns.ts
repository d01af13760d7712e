// Runs from the editor: the run dialog (with the inputs last used), the run panel, "Run to
// here", a run from the history shown again, and keeping the run's outputs in view.
import { useCallback, useEffect, useState, type RefObject } from "react";
import { useKeepInView } from "./useKeepInView";
import type { FlowState } from "./useFlowState";
import { useRun } from "./useRun";
import { useRunToHere } from "./useRunToHere";
import type { ViewStore } from "./viewStore";

interface Deps {
  flowId: string;
  store: ViewStore;
  state: FlowState;
  canvas: RefObject<HTMLDivElement | null>;
  /** A run settled (it shows up in the history's run list). */
  onSettled: () => void;
}

export function useEditorRuns({ flowId, store, state, canvas, onSettled }: Deps) {
  const { nodesRef, shownEdgesRef, draft } = state;
  const [panelOpen, setPanelOpen] = useState(false);
  const [dialogOpen, setDialogOpen] = useState(false);
  const [lastInputs, setLastInputs] = useState<Record<string, unknown>>({});
  const nodeIds = useCallback(() => nodesRef.current.map((n) => n.id), [nodesRef]);
  const { run, start, show, cancel, clear } = useRun(flowId, store, nodeIds);
  const settled = run.status === "succeeded" || run.status === "failed" || run.status === "cancelled";
  const running = run.status === "starting" || run.status === "queued" || run.status === "running";
  useKeepInView(canvas, panelOpen && run.status !== null, `${run.runId ?? ""} ${settled ? "settled" : "running"}`);

  useEffect(() => {
    if (settled) onSettled();
  }, [settled, run.runId, onSettled]);

  const openDialog = useCallback(() => setDialogOpen(true), []);
  const openPanel = useCallback(() => setPanelOpen(true), []);
  const toHere = useRunToHere({ nodesRef, linksRef: shownEdgesRef, document: draft, startRun: start, openDialog, onStarted: openPanel });

  /** The run dialog's Run: the whole flow, or up to the node "Run to here" picked. */
  const startFromDialog = useCallback(
    async (inputs: Record<string, unknown>, triggerId: string | undefined, reuseCache: boolean) => {
      setLastInputs(inputs);
      await start(inputs, draft(), triggerId, reuseCache, toHere.scope());
      setDialogOpen(false);
      toHere.reset();
      setPanelOpen(true);
    },
    [start, draft, toHere],
  );

  const closeDialog = useCallback(() => {
    setDialogOpen(false);
    toHere.reset();
  }, [toHere]);

  const showRun = useCallback(
    (runId: string) => {
      setPanelOpen(true);
      void show(runId);
    },
    [show],
  );

  const closePanel = useCallback(() => {
    setPanelOpen(false);
    clear();
  }, [clear]);

  const cancelRun = useCallback(() => void cancel(), [cancel]);

  return { run, running, panelOpen, dialogOpen, lastInputs, toHere, openDialog, startFromDialog, closeDialog, showRun, closePanel, cancelRun };
}

export type EditorRuns = ReturnType<typeof useEditorRuns>;
