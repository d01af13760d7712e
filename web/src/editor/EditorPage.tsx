// The flow editor: loads the flow and the node catalog, then composes the editor's hooks
// (state, draft and versions, placement, connections, edits, selection, runs, shortcuts)
// with its views (toolbar, banners, palette, canvas, run panel, inspector, dialogs).
import { MiniMap, ReactFlowProvider } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, errorMessage } from "../api/client";
import type { FlowDetail, Settings } from "../api/types";
import { ErrorNote } from "../components/Form";
import { LoadingPage } from "../components/Spinner";
import { linkHandler } from "../lib/router";
import { TopBar } from "../pages/Layout";
import { CatalogContext, makeCatalog, type Catalog } from "./catalog";
import { EditorBanners } from "./EditorBanners";
import { EditorCanvas } from "./EditorCanvas";
import { EditorSidebar } from "./EditorSidebar";
import { EditorToolbar } from "./EditorToolbar";
import { PanelDock } from "./PanelDock";
import { Palette } from "./Palette";
import { PublishDialog } from "./PublishDialog";
import { RunDialog, triggersOf } from "./RunDialog";
import { RunPanel } from "./RunPanel";
import { useRunCost } from "./runCost";
import { useClipboard } from "./useClipboard";
import { useConnections } from "./useConnections";
import { useDanglingEdges } from "./useDanglingEdges";
import { useDraft } from "./useDraft";
import { useEditorRuns } from "./useEditorRuns";
import { useFlowState } from "./useFlowState";
import { useNodeEdits } from "./useNodeEdits";
import { usePlacement } from "./usePlacement";
import { useSelection } from "./useSelection";
import { useShortcuts } from "./useShortcuts";
import { useValidation } from "./useValidation";
import { useWiringChoices } from "./useWiringChoices";
import { ViewStore, ViewStoreContext } from "./viewStore";

interface Loaded {
  flow: FlowDetail;
  catalog: Catalog;
  settings: Settings | null;
}

export function EditorPage({ flowId }: { flowId: string }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const store = useMemo(() => new ViewStore(), []);

  useEffect(() => {
    let live = true;
    Promise.all([api.getFlow(flowId), api.nodeTypes(), api.models(), api.settings().catch(() => null)]).then(
      ([flow, types, models, settings]) => {
        if (live) setLoaded({ flow, catalog: makeCatalog(types, models), settings });
      },
      (e: unknown) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [flowId]);

  if (error)
    return (
      <div className="page">
        <TopBar />
        <main className="page-main">
          <ErrorNote message={`Could not open the flow: ${error}`} />
          <a href="/" onClick={linkHandler("/")}>
            Back to flows
          </a>
        </main>
      </div>
    );
  if (!loaded) return <LoadingPage label="Opening the flow" />;
  return (
    <ReactFlowProvider>
      <ViewStoreContext.Provider value={store}>
        <CatalogContext.Provider value={loaded.catalog}>
          <Editor initial={loaded.flow} catalog={loaded.catalog} settings={loaded.settings} store={store} />
        </CatalogContext.Provider>
      </ViewStoreContext.Provider>
    </ReactFlowProvider>
  );
}

function Editor({ initial, catalog, settings, store }: { initial: FlowDetail; catalog: Catalog; settings: Settings | null; store: ViewStore }) {
  const flowId = initial.id;
  const canvas = useRef<HTMLDivElement>(null);
  const state = useFlowState(initial, catalog, store);
  const { nodes, meta, setMeta, history } = state;
  const draft = useDraft(initial, state);
  const { flow, dirty } = draft;
  const validation = useValidation(meta, nodes, state.edges, store);
  const selection = useSelection(state);
  const placement = usePlacement({ catalog, store, state, validationKey: validation.key, canvas, onAdded: selection.showNodeTab });
  const connections = useConnections(catalog, store, state);
  const edits = useNodeEdits(store, state);
  const clipboard = useClipboard(state);
  const dangling = useDanglingEdges(catalog, store, state, validation);
  const wiring = useWiringChoices(catalog, store, state, validation, selection.selectedNode);
  const runs = useEditorRuns({ flowId, store, state, canvas, onSettled: draft.refreshHistory });
  const { run, toHere } = runs;
  const triggers = useMemo(() => triggersOf(nodes), [nodes]);
  const runCost = useRunCost(nodes, catalog, settings, toHere.scope);
  const [publishing, setPublishing] = useState<number | null>(null);

  const { save } = draft;
  const onSave = useCallback(() => void save(), [save]);
  const onName = useCallback((name: string) => setMeta((m) => ({ ...m, name })), [setMeta]);
  const onPublishClick = useCallback(() => setPublishing(flow.version), [flow.version]);
  const onPublishVersion = useCallback(async (version: number) => setPublishing(version), []);
  useShortcuts({ save: onSave, run: runs.openDialog, undo: history.undo, redo: history.redo, copy: clipboard.copy, paste: clipboard.paste, selectAll: selection.selectAll });

  return (
    <div className="editor">
      <TopBar>
        <EditorToolbar
          flowId={flowId}
          name={meta.name}
          onName={onName}
          dirty={dirty}
          version={flow.version}
          publishedVersion={flow.publication?.version ?? null}
          validation={validation}
          saving={draft.saving}
          undo={history}
          onSave={onSave}
          onRun={runs.openDialog}
          onPublish={onPublishClick}
        />
      </TopBar>
      <EditorBanners preview={settings?.backend === "preview"} dirty={dirty} dangling={dangling.dangling} onRemoveDangling={dangling.remove} problems={validation.problems} />

      <div className="editor-body">
        <div className="palette-column">
          <Palette onAdd={placement.addNode} />
          <div className="minimap-dock" data-testid="minimap-dock">
            <MiniMap pannable zoomable ariaLabel="Mini map" style={{ width: 168, height: 112 }} />
          </div>
        </div>
        <div className="canvas-column">
          <EditorCanvas canvas={canvas} state={state} connections={connections.canvasHandlers} edits={edits.canvasHandlers} placement={placement} onNodeClick={selection.onNodeClick} />
          {runs.panelOpen && run.status ? (
            <PanelDock name="run-panel" label="run panel">
              {(dock) => <RunPanel run={run} dock={dock} nodeIds={nodes.map((n) => n.id)} onClose={runs.closePanel} onCancel={runs.cancelRun} onSelectNode={selection.selectNode} />}
            </PanelDock>
          ) : null}
        </div>
        <EditorSidebar flowId={flowId} meta={meta} onMeta={setMeta} selection={selection} draft={draft} runs={runs} wiring={wiring} onWire={connections.onWire} edits={edits} onPublishVersion={onPublishVersion} />
      </div>

      {runs.dialogOpen ? <RunDialog triggers={triggers} remembered={runs.lastInputs} cost={runCost} upTo={toHere.upTo} initialReuse={toHere.upTo ? toHere.reuse : false} onClose={runs.closeDialog} onRun={runs.startFromDialog} /> : null}
      {publishing !== null ? (
        <PublishDialog
          flowId={flowId}
          latestVersion={flow.version}
          initialVersion={publishing}
          publication={flow.publication}
          dirty={dirty}
          onSave={() => save()}
          onChanged={draft.publicationChanged}
          onClose={() => setPublishing(null)}
        />
      ) : null}
    </div>
  );
}
